/*
 * smtp.c - protocol module "smtp": an ESMTP server that takes mail and
 * credentials and never delivers anything.
 *
 * Personality: Postfix, Exim or Sendmail, drawn per sensor at first start
 * (identity keys smtp_server, smtp_version) or forced with "server"; the
 * banner, EHLO keywords, reply texts and queue ids follow the product so
 * that nmap -sV and a spammer's checker see that MTA.  The host name is the
 * sensor's generated one (identity "hostname", or the key "hostname").
 *
 * What is emulated: HELO/EHLO, STARTTLS (src/proto/tlsterm.h: the TLS
 * layer is a filter between the socket bytes and the line parser, as in the
 * HTTP module), AUTH PLAIN and LOGIN (each attempt one login event, the
 * password decoded; accepted only from the accept_after'th attempt on a
 * connection, never by default), MAIL/RCPT/DATA (the message, dot-unstuffed
 * and capped at max_message, is stored with hp_upload_record, detail
 * "smtp", and described by an smtp.message event), RSET, NOOP, VRFY, EXPN,
 * HELP, QUIT.  Nothing is ever relayed or delivered.
 *
 * Open-relay probes: a RCPT to a domain that is not the sensor's (its host
 * name, "localhost", its address literal, the "domains" key) from a client
 * that has not authenticated is logged as smtp.relay_attempt.  By default it
 * is accepted (open_relay = true), so that the probe message - usually a
 * test mail to the spammer's own address - is captured; open_relay = false
 * answers "Relay access denied" as a correctly configured MTA.
 *
 * Every command line is a command.input event; DATA body lines and the
 * base64 lines of an AUTH exchange are not commands and are not logged as such.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "buf.h"
#include "capture/capture.h"
#include "capture/upload.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "login.h"
#include "proto.h"
#include "reply.h"
#include "smtp_parse.h"
#include "tlsterm_conn.h"
#include "util.h"

#define SMTP_MAX_CMDS     2048
#define SMTP_RCPT_BYTES   (32 * 1024)     /* recipient list of one transaction */
#define SMTP_DATA_LINE    (64 * 1024)     /* a body line longer than this is taken in pieces */
#define SMTP_PLAIN_MAX    (256 * 1024)    /* decrypted bytes waiting to be parsed */
#define SMTP_AUTH_MAX     2048            /* one base64 AUTH line */

/* ---- personalities ------------------------------------------------------------------------ */

/* "{0}".."{2}" in the texts are replaced by arguments (never a run-time printf format). */
struct smtp_flavour {
    const char *name;
    const char *const *versions;
    const char *banner;           /* {0} host {1} version {2} date */
    const char *ehlo;             /* lines after the first; {0} is SIZE; the STARTTLS line is
                                   * dropped when TLS is not offered */
    const char *ehlo_first;       /* {0} host {1} helo {2} client ip */
    const char *helo;             /* {0} host {1} helo {2} ip */
    const char *mail_ok, *rcpt_ok, *data_go, *queued, *rset, *noop, *vrfy, *expn, *help, *quit;
    const char *unknown, *need_helo, *need_mail, *need_rcpt, *nested, *bad_from, *bad_to, *relay_denied;
    const char *too_many_rcpt, *too_big, *auth_ok, *auth_fail, *auth_mech, *auth_abort, *auth_twice, *auth_decode;
    const char *tls_go, *tls_twice, *tls_na, *errors, *helo_syntax, *line_long;
    /* Postfix's own answers; NULL in the others: the texts above stand in */
    const char *bad_syntax;       /* an empty command line */
    const char *forbidden;        /* GET/POST/CONNECT or a verb not starting with a letter: answer and close */
    const char *mail_syntax, *rcpt_syntax, *arg_syntax, *vrfy_syntax, *auth_syntax, *bad_option, *size_syntax;
    const char *no_rcpts;         /* DATA in a transaction without recipients */
    const char *bdat_ok, *bdat_queued, *bdat_syntax, *data_after_bdat;   /* CHUNKING (BDAT) */
    const char *etrn_syntax, *etrn_na, *helo_first;   /* ETRN */
    const char *xclient;          /* XCLIENT, XFORWARD: refused to strangers */
    const char *auth_step;        /* undecodable 334 response, or an empty initial one (Cyrus SASL's words) */
    bool helo_optional;           /* MAIL and AUTH before HELO/EHLO are taken (smtpd_helo_required = no) */
    bool helo_strict;             /* a HELO name is a host name or an address literal (Exim's check_helo) */
    size_t line_cut;              /* a longer command line is cut there, its rest skipped (line_length_limit) */
    int qid;                      /* 0 postfix, 1 exim, 2 sendmail */
};

static const char *const postfix_versions[] = { "3.4.23", "3.5.25", "3.7.11", "3.8.6", NULL };
static const char *const exim_versions[] = { "4.92", "4.94.2", "4.96", "4.97.1", NULL };
static const char *const sendmail_versions[] = { "8.15.2/8.15.2/Debian-22", "8.17.1.9/8.17.1.9/Debian-2",
                                                 "8.14.7/8.14.7", NULL };

static const struct smtp_flavour flavours[] = {
    { .name = "postfix", .versions = postfix_versions, .qid = 0,
      .banner = "220 {0} ESMTP Postfix (Debian/GNU)",
      .ehlo_first = "250-{0}",
      .ehlo = "250-PIPELINING\r\n250-SIZE {0}\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n"
              "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING",
      .helo = "250 {0}", .mail_ok = "250 2.1.0 Ok", .rcpt_ok = "250 2.1.5 Ok",
      .data_go = "354 End data with <CR><LF>.<CR><LF>", .queued = "250 2.0.0 Ok: queued as {0}",
      .rset = "250 2.0.0 Ok", .noop = "250 2.0.0 Ok", .vrfy = "252 2.0.0 {0}",
      .expn = "500 5.5.2 Error: command not recognized", .help = "500 5.5.2 Error: command not recognized",
      .quit = "221 2.0.0 Bye", .unknown = "500 5.5.2 Error: command not recognized",
      .need_helo = "503 5.5.1 Error: send HELO/EHLO first", .need_mail = "503 5.5.1 Error: need MAIL command",
      .need_rcpt = "503 5.5.1 Error: need RCPT command", .nested = "503 5.5.1 Error: nested MAIL command",
      .bad_from = "501 5.1.7 Bad sender address syntax", .bad_to = "501 5.1.3 Bad recipient address syntax",
      .relay_denied = "454 4.7.1 <{0}>: Relay access denied", .too_many_rcpt = "452 4.5.3 Error: too many recipients",
      .too_big = "552 5.3.4 Message size exceeds fixed limit", .auth_ok = "235 2.7.0 Authentication successful",
      .auth_fail = "535 5.7.8 Error: authentication failed: authentication failure",
      .auth_mech = "535 5.7.8 Error: authentication failed: no mechanism available",
      .auth_abort = "501 5.7.0 Authentication aborted", .auth_twice = "503 5.5.1 Error: already authenticated",
      .auth_decode = "535 5.7.8 Error: authentication failed: bad protocol / cancel", .tls_go = "220 2.0.0 Ready to start TLS",
      .tls_twice = "554 5.5.1 Error: TLS already active", .tls_na = "502 5.5.1 Error: command not implemented",
      .errors = "421 4.7.0 {0} Error: too many errors", .helo_syntax = "501 Syntax: {0} hostname",
      .line_long = "500 5.5.0 Error: line too long",
      .bad_syntax = "500 5.5.2 Error: bad syntax", .forbidden = "221 2.7.0 Error: I can break rules, too. Goodbye.",
      .mail_syntax = "501 5.5.4 Syntax: MAIL FROM:<address>", .rcpt_syntax = "501 5.5.4 Syntax: RCPT TO:<address>",
      .arg_syntax = "501 5.5.4 Syntax: {0}", .vrfy_syntax = "501 5.5.4 Syntax: VRFY address [SMTPUTF8]",
      .auth_syntax = "501 5.5.4 Syntax: AUTH mechanism", .bad_option = "555 5.5.4 Unsupported option: {0}",
      .size_syntax = "501 5.5.4 Bad message size syntax", .no_rcpts = "554 5.5.1 Error: no valid recipients",
      .bdat_ok = "250 2.0.0 Ok: {0} bytes", .bdat_queued = "250 2.0.0 Ok: {0} bytes queued as {1}",
      .bdat_syntax = "521 5.5.4 Syntax: BDAT count [LAST]", .data_after_bdat = "503 5.5.1 Error: DATA after BDAT",
      .etrn_syntax = "500 Syntax: ETRN domain", .etrn_na = "459 <{0}>: service unavailable",
      .helo_first = "503 Error: send HELO/EHLO first", .xclient = "550 5.7.0 Error: insufficient authorization",
      .auth_step = "535 5.7.8 Error: authentication failed: another step is needed in authentication",
      .helo_optional = true, .line_cut = 2048 },
    { .name = "exim", .versions = exim_versions, .qid = 1,
      .banner = "220 {0} ESMTP Exim {1} {2}",
      .ehlo_first = "250-{0} Hello {1} [{2}]",
      .ehlo = "250-SIZE {0}\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250-PRDR\r\n250 HELP",
      .helo = "250 {0} Hello {1} [{2}]", .mail_ok = "250 OK", .rcpt_ok = "250 Accepted",
      .data_go = "354 Enter message, ending with \".\" on a line by itself", .queued = "250 OK id={0}",
      .rset = "250 Reset OK", .noop = "250 OK", .vrfy = "252 VRFY not available",
      .expn = "550 Administrative prohibition",
      .help = "214-Commands supported:\r\n214 AUTH STARTTLS HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP",
      .quit = "221 {0} closing connection", .unknown = "500 unrecognized command",
      .need_helo = "503 5.5.2 Send hello first", .need_mail = "503 sender not yet given",
      .need_rcpt = "503 valid RCPT command must precede DATA", .nested = "503 sender already given",
      .bad_from = "501 {0}: malformed address", .bad_to = "501 {0}: malformed address",
      .relay_denied = "550 relay not permitted", .too_many_rcpt = "452 too many recipients",
      .too_big = "552 Message size exceeds maximum permitted", .auth_ok = "235 Authentication succeeded",
      .auth_fail = "535 Incorrect authentication data", .auth_mech = "504 Unsupported authentication mechanism",
      .auth_abort = "501 Authentication cancelled", .auth_twice = "503 already authenticated",
      .auth_decode = "501 Invalid base64 data", .tls_go = "220 TLS go ahead",
      .tls_twice = "554 Already in TLS", .tls_na = "500 unrecognized command",
      .errors = "421 {0} lost input connection", .helo_syntax = "501 Syntactically invalid {0} argument(s)",
      .line_long = "500 Command line too long", .helo_strict = true },
    { .name = "sendmail", .versions = sendmail_versions, .qid = 2,
      .banner = "220 {0} ESMTP Sendmail {1}; {2}",
      .ehlo_first = "250-{0} Hello {1} [{2}], pleased to meet you",
      .ehlo = "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-EXPN\r\n250-VERB\r\n250-8BITMIME\r\n250-SIZE {0}\r\n"
              "250-DSN\r\n250-ETRN\r\n250-AUTH LOGIN PLAIN\r\n250-STARTTLS\r\n250-DELIVERBY\r\n250 HELP",
      .helo = "250 {0} Hello {1} [{2}], pleased to meet you", .mail_ok = "250 2.1.0 {0}... Sender ok",
      .rcpt_ok = "250 2.1.5 {0}... Recipient ok", .data_go = "354 Enter mail, end with \".\" on a line by itself",
      .queued = "250 2.0.0 {0} Message accepted for delivery", .rset = "250 2.0.0 Reset state",
      .noop = "250 2.0.0 OK", .vrfy = "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery (or try finger)",
      .expn = "502 5.7.0 Sorry, we do not allow this operation",
      .help = "214-2.0.0 This is sendmail\r\n214-2.0.0 Topics:\r\n214-2.0.0 \tHELO\tEHLO\tMAIL\tRCPT\tDATA\r\n"
              "214-2.0.0 \tRSET\tNOOP\tQUIT\tHELP\tVRFY\r\n214-2.0.0 \tEXPN\tVERB\tETRN\tDSN\tAUTH\r\n"
              "214-2.0.0 \tSTARTTLS\r\n214 2.0.0 End of HELP info",
      .quit = "221 2.0.0 {0} closing connection", .unknown = "500 5.5.1 Command unrecognized: \"{0}\"",
      .need_helo = "503 5.0.0 Polite people say HELO first", .need_mail = "503 5.0.0 Need MAIL before RCPT",
      .need_rcpt = "503 5.0.0 Need RCPT (recipient)", .nested = "503 5.5.0 Sender already specified",
      .bad_from = "553 5.1.8 {0}... Domain of sender address does not exist",
      .bad_to = "553 5.1.3 {0}... User address required", .relay_denied = "550 5.7.1 {0}... Relaying denied",
      .too_many_rcpt = "452 4.5.3 Too many recipients", .too_big = "552 5.2.3 Message size exceeds maximum value",
      .auth_ok = "235 2.0.0 OK Authenticated", .auth_fail = "535 5.7.0 authentication failed",
      .auth_mech = "504 5.3.3 AUTH mechanism not available", .auth_abort = "501 5.0.0 AUTH aborted",
      .auth_twice = "503 5.5.0 Already Authenticated", .auth_decode = "501 5.5.4 cannot BASE64 decode",
      .tls_go = "220 2.0.0 Ready to start TLS", .tls_twice = "503 5.5.0 TLS already active",
      .tls_na = "500 5.5.1 Command unrecognized: \"STARTTLS\"",
      .errors = "421 4.7.0 {0} Too many errors", .helo_syntax = "501 5.0.0 {0} requires domain address",
      .line_long = "500 5.5.0 Line too long" },
};

static const struct smtp_flavour *flavour_named(const char *name)
{
    for (size_t i = 0; name && i < HP_ARRAY_LEN(flavours); i++)
        if (strcasecmp(flavours[i].name, name) == 0)
            return &flavours[i];
    return NULL;
}

/* ---- configuration -------------------------------------------------------------------------- */

struct smtp_conf {
    const struct smtp_flavour *fl;    /* NULL until start(): the identity's */
    char version[48];
    char *hostname;                   /* NULL: the identity's */
    char *domains;                    /* extra local domains, blank separated */
    char *data_dir;
    uint64_t max_message;
    uint64_t max_rcpt;
    uint64_t accept_after;
    uint64_t max_auth_tries;
    bool open_relay;
    bool tls;
    bool implicit_tls;            /* tls = implicit: SMTPS (465), TLS from the first byte */
};

static int conf_key(struct smtp_conf *sc, const struct hp_kv *kv)
{
    int b, bad = 0;
    if (strcmp(kv->key, "server") == 0) {
        sc->fl = flavour_named(kv->value);
        bad = !sc->fl;
    } else if (strcmp(kv->key, "version") == 0) {
        bad = strlen(kv->value) >= sizeof(sc->version) || strpbrk(kv->value, "\r\n") != NULL;
        if (!bad)
            snprintf(sc->version, sizeof(sc->version), "%s", kv->value);
    } else if (strcmp(kv->key, "hostname") == 0) {
        bad = !kv->value[0] || strlen(kv->value) > 253 || strpbrk(kv->value, " \t\r\n") != NULL;
        free(sc->hostname);
        sc->hostname = hp_xstrdup(kv->value);
    } else if (strcmp(kv->key, "domains") == 0) {
        free(sc->domains);
        sc->domains = hp_xstrdup(kv->value);
    } else if (strcmp(kv->key, "max_message") == 0) {
        bad = hp_parse_size(kv->value, &sc->max_message) || sc->max_message < 1024 || sc->max_message > (256u << 20);
    } else if (strcmp(kv->key, "max_rcpt") == 0) {
        bad = hp_parse_u64(kv->value, 1, 10000, &sc->max_rcpt);
    } else if (strcmp(kv->key, "accept_after") == 0) {
        bad = hp_parse_u64(kv->value, 0, 1000, &sc->accept_after);
    } else if (strcmp(kv->key, "max_auth_tries") == 0) {
        bad = hp_parse_u64(kv->value, 1, 1000, &sc->max_auth_tries);
    } else if (strcmp(kv->key, "open_relay") == 0) {
        bad = hp_parse_bool(kv->value, &b);
        sc->open_relay = !bad && b;
    } else if (strcmp(kv->key, "tls") == 0) {
        sc->implicit_tls = strcmp(kv->value, "implicit") == 0;
        bad = !sc->implicit_tls && hp_parse_bool(kv->value, &b);
        sc->tls = sc->implicit_tls || (!bad && b);
    } else {
        return -1;
    }
    return bad ? 1 : 0;
}

static int smtp_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct smtp_conf *sc = hp_xcalloc(1, sizeof(*sc));
    sc->max_message = 10240000;       /* Postfix's message_size_limit */
    sc->max_rcpt = 100;
    sc->max_auth_tries = 10;
    sc->open_relay = true;
    sc->tls = true;
    svc->proto_conf = sc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int r = conf_key(sc, kv);
        if (r < 0) {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol smtp)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
        if (r > 0) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            return -1;
        }
    }
    return 0;
}

static void smtp_unconfigure(struct hp_service_cfg *svc)
{
    struct smtp_conf *sc = svc->proto_conf;
    if (sc) {
        free(sc->hostname);
        free(sc->domains);
        free(sc->data_dir);
    }
    free(sc);
    svc->proto_conf = NULL;
}

/* The MTA and its version: drawn at first start, kept in the identity file
 * (smtp_server, smtp_version); a forced "server" other than the identity's
 * gets a version picked stably from the host name. */
static void pick_identity(struct smtp_conf *sc)
{
    const char *idsrv = hp_identity_get("smtp_server");
    if (!sc->fl)
        sc->fl = flavour_named(idsrv);
    if (!sc->fl) {
        static const size_t weights[] = { 0, 0, 0, 0, 1, 1, 1, 2 };   /* Postfix leads, then Exim */
        sc->fl = &flavours[weights[hp_random_u64() % HP_ARRAY_LEN(weights)]];
        idsrv = NULL;
    }
    hp_identity_product("smtp_server", "smtp_version", sc->fl->name, idsrv, sc->fl->versions, sc->version,
                        sizeof(sc->version));
}

static int smtp_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct smtp_conf *sc = svc->proto_conf;
    free(sc->data_dir);
    sc->data_dir = hp_xstrdup(cfg->data_dir);
    pick_identity(sc);
    if (sc->tls && !hp_tlsterm_ready() && hp_tlsterm_init(cfg->data_dir, err, errlen) != 0)
        return -1;
    return 0;
}

/* ---- session ------------------------------------------------------------------------------ */

enum smtp_state { ST_CMD, ST_DATA, ST_AUTH_PLAIN, ST_AUTH_USER, ST_AUTH_PASS, ST_BDAT };

struct smtp_sess {
    struct hp_conn *c;
    const struct smtp_conf *cf;
    enum smtp_state st;
    bool helo_seen, authed, closing;
    bool switching;               /* STARTTLS answered: the rest of the input is TLS */
    bool greet_pending;           /* implicit TLS: the 220 waits for the handshake */
    bool tls_noted;
    bool midline;                 /* DATA: the last piece did not end a line */
    bool skip_line;               /* the rest of a command line cut at line_cut: dropped up to its LF */
    bool bdat, bdat_last, bdat_drop;  /* BDAT: a chunk came; this one is the last; it is read and dropped */
    uint64_t bdat_left;           /* bytes of the current BDAT chunk still to come */
    size_t seen;                  /* bytes at the front of the unparsed input known to hold no LF */
    bool relay;                   /* this transaction has a foreign recipient */
    struct hp_tlsterm *tls;
    struct hp_buf plain;          /* decrypted, not yet parsed */
    char helo[256];
    char from[SMTP_ADDR_MAX + 1];
    bool have_from;
    struct hp_buf rcpts;          /* NUL-separated */
    unsigned nrcpt;
    struct hp_buf msg;
    uint64_t msg_size;            /* bytes of the body as received (after unstuffing) */
    uint8_t auth_user[256];
    size_t auth_userlen;
    const char *auth_mech;
    unsigned auth_attempts, ncmds, nmsgs, errors;
};

static const struct smtp_conf *conf_of(const struct hp_conn *c)
{
    return hp_conn_service_cfg(c)->proto_conf;
}

static const char *host_of(const struct smtp_sess *s)
{
    const char *h = s->cf->hostname ? s->cf->hostname : hp_identity_get("hostname");
    return h ? h : "localhost";
}

/* Bytes to the client, through TLS once it is on. */
static void out_send(struct smtp_sess *s, const void *data, size_t len)
{
    if (!s->tls || s->switching)
        hp_conn_send(s->c, data, len);
    else
        hp_tlsterm_conn_send(s->c, s->tls, data, len);
}

static void say(struct smtp_sess *s, const char *tmpl, const char *a0, const char *a1, const char *a2)
{
    char out[HP_REPLY_MAX];
    size_t n = hp_reply_line(out, sizeof(out), tmpl, a0, a1, a2);
    out_send(s, out, n);
}

static void say0(struct smtp_sess *s, const char *tmpl)
{
    say(s, tmpl, NULL, NULL, NULL);
}

static void finish(struct smtp_sess *s, const char *reason)
{
    s->closing = true;
    if (s->tls && !s->switching)
        hp_tlsterm_conn_bye(s->c, s->tls);
    hp_conn_close(s->c, reason);
}

/* A protocol error; too many end the session as Postfix's smtpd_hard_error_limit does. */
static void error_reply(struct smtp_sess *s, const char *tmpl, const char *a0)
{
    say(s, tmpl, a0, NULL, NULL);
    if (++s->errors >= 20) {
        say(s, s->cf->fl->errors, host_of(s), NULL, NULL);
        finish(s, "too_many_errors");
    }
}

static void reset_txn(struct smtp_sess *s)
{
    s->have_from = false;
    s->from[0] = '\0';
    s->nrcpt = 0;
    s->relay = false;
    s->midline = false;
    s->bdat = false;
    s->msg_size = 0;
    hp_buf_reset(&s->rcpts);
    hp_buf_free(&s->msg);
}

/* ---- events ------------------------------------------------------------------------------- */

/* Peer text kept as a C string: bytes (a "_b64" companion when not UTF-8). */
static void ev_text(struct hp_ev *ev, const char *key, const char *v)
{
    hp_ev_bytes(ev, key, v, strlen(v));
}

/* CVE-2024-45519: Zimbra's postjournal service passed the envelope addresses
 * to a shell, and bots send RCPT TO:<"x$(curl${IFS}...)"@domain> to any mail
 * server.  A shell substitution in a MAIL or RCPT address is that exploit. */
static bool addr_injection(const uint8_t *line, size_t len, const char *verb)
{
    if (strcmp(verb, "RCPT") != 0 && strcmp(verb, "MAIL") != 0)
        return false;
    return memmem(line, len, "$(", 2) || memchr(line, '`', len) || memmem(line, len, "${IFS}", 6);
}

static void ev_command(struct smtp_sess *s, const uint8_t *line, size_t len, const char *verb, bool injection)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "command.input");
    hp_ev_bytes(&ev, "input", line, len);
    hp_ev_str(&ev, "command", verb);
    if (s->tls)
        hp_ev_bool(&ev, "tls", true);
    if (injection) {
        hp_ev_strings(&ev, "attack_classes", (const char *[]){ "command-injection", "rce" }, 2);
        hp_ev_strings(&ev, "cves", (const char *[]){ "CVE-2024-45519" }, 1);
    }
    hp_ev_emit(&ev);
}

static void ev_login(struct smtp_sess *s, bool ok, const uint8_t *user, size_t ulen, const uint8_t *pass,
                     size_t plen, const uint8_t *authzid, size_t zlen)
{
    const struct hp_login l = { user, ulen, pass, plen, s->auth_mech, s->auth_attempts };
    struct hp_ev ev;
    hp_login_ev_begin(&ev, &s->c->ctx, ok, &l);
    if (zlen)
        hp_ev_bytes(&ev, "authzid", authzid, zlen);
    hp_ev_bool(&ev, "tls", s->tls != NULL);
    if (s->helo[0])
        ev_text(&ev, "helo", s->helo);
    hp_login_ev_emit(&ev, &l);
}

static void ev_relay(struct smtp_sess *s, const char *rcpt, const char *domain, bool accepted)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "smtp.relay_attempt");
    ev_text(&ev, "mail_from", s->from);
    ev_text(&ev, "rcpt", rcpt);
    ev_text(&ev, "domain", domain);
    ev_text(&ev, "helo", s->helo);
    hp_ev_bool(&ev, "accepted", accepted);
    hp_ev_emit(&ev);
}

static void ev_message(struct smtp_sess *s, const char *sha, const char *qid, bool stored)
{
    char subject[1024], msgid[512];
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "smtp.message");
    ev_text(&ev, "mail_from", s->from);
    hp_ev_arr_begin(&ev, "rcpts");
    for (size_t off = 0; off < s->rcpts.len;) {
        const char *r = (const char *)s->rcpts.data + off;
        size_t n = strnlen(r, s->rcpts.len - off);
        hp_ev_elem_str(&ev, r);
        off += n + 1;
    }
    hp_ev_arr_end(&ev);
    if (smtp_header(s->msg.data, s->msg.len, "Subject", subject, sizeof(subject)))
        ev_text(&ev, "subject", subject);
    if (smtp_header(s->msg.data, s->msg.len, "Message-ID", msgid, sizeof(msgid)))
        ev_text(&ev, "message_id", msgid);
    hp_ev_uint(&ev, "size", s->msg_size);
    hp_ev_bool(&ev, "truncated", s->msg_size > s->msg.len);
    if (sha && sha[0])
        hp_ev_str(&ev, "sha256", sha);
    hp_ev_bool(&ev, "stored", stored);
    hp_ev_str(&ev, "queue_id", qid);
    ev_text(&ev, "helo", s->helo);
    hp_ev_bool(&ev, "authenticated", s->authed);
    hp_ev_bool(&ev, "relay", s->relay);
    hp_ev_bool(&ev, "tls", s->tls != NULL);
    hp_ev_emit(&ev);
}

/* ---- commands ------------------------------------------------------------------------------- */

static void queue_id(const struct smtp_flavour *fl, char *out, size_t outlen)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t r[16];
    hp_random_bytes(r, sizeof(r));
    if (fl->qid == 0) {                       /* Postfix: hex, 10-12 digits */
        snprintf(out, outlen, "%02X%02X%02X%02X%02X%X", r[0], r[1], r[2], r[3], r[4], r[5] & 15);
    } else if (fl->qid == 1) {                /* Exim 4.97: base62 6-6-2 (older ones 6-6-2 too) */
        char id[17];
        for (int i = 0; i < 14; i++)
            id[i] = b62[r[i] % 62];
        snprintf(out, outlen, "1%.5s-%.6s-%.2s", id, id + 5, id + 11);
    } else {                                  /* sendmail: date-coded letters, 6 digits */
        char id[9];
        for (int i = 0; i < 8; i++)
            id[i] = b62[10 + r[i] % 52];
        id[8] = '\0';
        snprintf(out, outlen, "%s%06u", id, (unsigned)((r[8] << 16 | r[9] << 8 | r[10]) % 1000000));
    }
}

/* True when domain is one of the sensor's own. */
static bool local_domain(const struct smtp_sess *s, const char *domain)
{
    char lit[HP_IPSTR_LEN + 3];
    if (!domain)
        return true;                          /* "postmaster": a local user */
    snprintf(lit, sizeof(lit), "[%s]", s->c->ctx.dst_ip);
    if (smtp_domain_eq(domain, host_of(s)) || smtp_domain_eq(domain, "localhost") || smtp_domain_eq(domain, lit))
        return true;
    const char *dot = strchr(host_of(s), '.');
    if (dot && smtp_domain_eq(domain, dot + 1))   /* mail.example.com serves example.com */
        return true;
    if (s->cf->domains) {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%s", s->cf->domains);
        char *save = NULL;
        for (char *w = strtok_r(tmp, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
            if (smtp_domain_eq(domain, w))
                return true;
    }
    return false;
}

/* A UUCP bang path "dom!u" in place as "u@dom" (Postfix's swap_bangpath). */
static void bang_swap(char *w, char *bang)
{
    char tmp[SMTP_ADDR_MAX + 1];
    snprintf(tmp, sizeof(tmp), "%s@%.*s", bang + 1, (int)(bang - w), w);
    memcpy(w, tmp, strlen(tmp) + 1);        /* as long as w: '!' became '@' */
}

/* The domain a recipient really goes to when it is not the sensor's, else
 * NULL.  An MTA strips its own domain and routes on what is left, so the
 * relay tricks of scanners (nmap smtp-open-relay: "u%dom@HOST",
 * "u@dom@HOST", "\"u@dom\"", "dom!u") leave through dom: Postfix refuses
 * them all. */
static const char *foreign_domain(const struct smtp_sess *s, const char *addr, char *w, size_t wlen)
{
    size_t n = 0;
    for (const char *p = addr; *p && n + 1 < wlen; p++)
        if (*p != '"')
            w[n++] = *p;
    w[n] = '\0';
    for (;;) {
        char *at = strrchr(w, '@');
        if (at && at[1] && !local_domain(s, at + 1))
            return at + 1;
        if (at)
            *at = '\0';                     /* ours: route on the local part */
        else if ((at = strrchr(w, '%')) != NULL)
            *at = '@';                      /* the percent hack: "u%dom" is "u@dom" */
        else if ((at = strchr(w, '!')) != NULL)
            bang_swap(w, at);
        else
            return NULL;
    }
}

/* Exim takes letters, digits, dots and hyphens, or "[address]". */
static bool helo_name_ok(const uint8_t *p, size_t n)
{
    bool lit = n >= 2 && p[0] == '[' && p[n - 1] == ']';
    for (size_t i = lit; i < n - lit; i++) {
        int c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                  (lit && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

static void cmd_helo(struct smtp_sess *s, const struct smtp_cmd *cmd, bool ehlo)
{
    const struct smtp_flavour *fl = s->cf->fl;
    if (cmd->arglen == 0 || (fl->helo_strict && !helo_name_ok(cmd->arg, cmd->arglen))) {
        error_reply(s, fl->helo_syntax, ehlo ? "EHLO" : "HELO");
        return;
    }
    size_t n = cmd->arglen < sizeof(s->helo) - 1 ? cmd->arglen : sizeof(s->helo) - 1;
    memcpy(s->helo, cmd->arg, n);
    s->helo[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s->helo[i] < 0x20)
            s->helo[i] = '?';
    s->helo_seen = true;
    reset_txn(s);
    if (!ehlo) {
        say(s, fl->helo, host_of(s), s->helo, s->c->ctx.src_ip);
        return;
    }
    char size[24];
    snprintf(size, sizeof(size), "%llu", (unsigned long long)s->cf->max_message);
    say(s, fl->ehlo_first, host_of(s), s->helo, s->c->ctx.src_ip);
    /* STARTTLS is offered once, and only when TLS is there */
    char kw[1024];
    snprintf(kw, sizeof(kw), "%s", fl->ehlo);
    char *tls = strstr(kw, "250-STARTTLS\r\n");
    if (tls && !(s->cf->tls && !s->tls && hp_tlsterm_ready()))
        memmove(tls, tls + 14, strlen(tls + 14) + 1);
    say(s, kw, size, NULL, NULL);
}

/* "FROM:" / "TO:" with nothing after it, or another keyword: Postfix's
 * usage line rather than its bad-address reply. */
static bool path_missing(const struct smtp_cmd *cmd, const char *kw)
{
    size_t kl = strlen(kw), i = kl;
    if (cmd->arglen < kl || strncasecmp((const char *)cmd->arg, kw, kl) != 0)
        return true;
    while (i < cmd->arglen && (cmd->arg[i] == ' ' || cmd->arg[i] == '\t'))
        i++;
    return i == cmd->arglen;
}

static bool word_is(const uint8_t *w, size_t n, const char *const *list)
{
    for (; *list; list++) {
        size_t l = strlen(*list);
        bool prefix = (*list)[l - 1] == '=';
        if ((prefix ? n >= l : n == l) && strncasecmp((const char *)w, *list, l) == 0)
            return true;
    }
    return false;
}

/* The ESMTP parameters after the path (Postfix: others are refused, SIZE
 * must be digits).  Returns the reply template for the first bad one (its
 * text in bad, cut), or NULL; *size gets SIZE= (0 without). */
static const char *path_params(const struct smtp_flavour *fl, const uint8_t *p, size_t n, bool mail, uint64_t *size,
                               char *bad, size_t badlen)
{
    static const char *const mail_ok[] = { "BODY=7BIT", "BODY=8BITMIME", "AUTH=", "RET=FULL", "RET=HDRS", "ENVID=",
                                           "SMTPUTF8", "XVERP", "XVERP=", "SIZE=", NULL };
    static const char *const rcpt_ok[] = { "NOTIFY=", "ORCPT=", NULL };
    struct hp_rd r;
    *size = 0;
    hp_rd_init(&r, p, n);
    while (hp_rd_left(&r)) {
        long sp = hp_rd_find(&r, " ", 1);
        size_t wl = sp < 0 ? hp_rd_left(&r) : (size_t)sp;
        const uint8_t *w = hp_rd_bytes(&r, wl);
        while (hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == ' ')
            hp_rd_skip(&r, 1);
        if (!wl)
            continue;
        snprintf(bad, badlen, "%.*s", (int)(wl < 200 ? wl : 200), (const char *)w);
        if (mail && wl >= 5 && strncasecmp((const char *)w, "SIZE=", 5) == 0) {
            uint64_t v = 0;
            bool digits = wl > 5 && wl <= 5 + 19;
            for (size_t j = 5; digits && j < wl; j++) {
                digits = w[j] >= '0' && w[j] <= '9';
                v = v * 10 + (uint64_t)(w[j] - '0');
            }
            if (!digits && fl->size_syntax)
                return fl->size_syntax;
            *size = digits ? v : 0;
        } else if (fl->bad_option && !word_is(w, wl, mail ? mail_ok : rcpt_ok)) {
            return fl->bad_option;
        }
    }
    return NULL;
}

static void cmd_mail(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    char addr[SMTP_ADDR_MAX + 1], bad[256];
    const uint8_t *params;
    size_t plen;
    uint64_t size;
    if (!s->helo_seen && !fl->helo_optional) {
        error_reply(s, fl->need_helo, NULL);
        return;
    }
    if (s->have_from) {
        error_reply(s, fl->nested, NULL);
        return;
    }
    if (fl->mail_syntax && path_missing(cmd, "FROM:")) {
        error_reply(s, fl->mail_syntax, NULL);
        return;
    }
    if (smtp_parse_path(cmd->arg, cmd->arglen, "FROM:", addr, sizeof(addr), &params, &plen) != 0) {
        error_reply(s, fl->bad_from, "<>");
        return;
    }
    const char *perr = path_params(fl, params, params ? plen : 0, true, &size, bad, sizeof(bad));
    if (perr) {
        error_reply(s, perr, bad);
        return;
    }
    /* SIZE=n beyond the limit is refused before any data, as every MTA does */
    if (size > s->cf->max_message) {
        error_reply(s, fl->too_big, NULL);
        return;
    }
    snprintf(s->from, sizeof(s->from), "%s", addr);
    s->have_from = true;
    char shown[SMTP_ADDR_MAX + 3];
    snprintf(shown, sizeof(shown), "<%s>", addr);
    say(s, fl->mail_ok, shown, NULL, NULL);
}

static void cmd_rcpt(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    char addr[SMTP_ADDR_MAX + 1];
    if (!s->have_from) {
        error_reply(s, fl->need_mail, NULL);
        return;
    }
    if (fl->rcpt_syntax && path_missing(cmd, "TO:")) {
        error_reply(s, fl->rcpt_syntax, NULL);
        return;
    }
    const uint8_t *params;
    size_t plen;
    uint64_t size;
    char bad[256];
    if (smtp_parse_path(cmd->arg, cmd->arglen, "TO:", addr, sizeof(addr), &params, &plen) != 0 || !addr[0]) {
        error_reply(s, fl->bad_to, "<>");
        return;
    }
    const char *perr = path_params(fl, params, params ? plen : 0, false, &size, bad, sizeof(bad));
    if (perr) {
        error_reply(s, perr, bad);
        return;
    }
    if (s->nrcpt >= s->cf->max_rcpt || s->rcpts.len + strlen(addr) + 1 > SMTP_RCPT_BYTES) {
        say0(s, fl->too_many_rcpt);
        return;
    }
    char route[SMTP_ADDR_MAX + 1];
    const char *domain = foreign_domain(s, addr, route, sizeof(route));
    if (!s->authed && domain) {
        ev_relay(s, addr, domain, s->cf->open_relay);
        if (!s->cf->open_relay) {
            error_reply(s, fl->relay_denied, addr);
            return;
        }
        s->relay = true;
    }
    hp_buf_put(&s->rcpts, addr, strlen(addr) + 1);
    s->nrcpt++;
    char shown[SMTP_ADDR_MAX + 3];
    snprintf(shown, sizeof(shown), "<%s>", addr);
    say(s, fl->rcpt_ok, shown, NULL, NULL);
}

static void cmd_data(struct smtp_sess *s)
{
    const struct smtp_flavour *fl = s->cf->fl;
    if (fl->no_rcpts && s->nrcpt == 0) {     /* Postfix looks at the recipients first */
        error_reply(s, s->have_from ? fl->no_rcpts : fl->need_rcpt, NULL);
        return;
    }
    if (!s->have_from) {
        error_reply(s, fl->need_mail, NULL);
        return;
    }
    if (s->nrcpt == 0) {
        error_reply(s, fl->need_rcpt, NULL);
        return;
    }
    if (s->bdat) {
        error_reply(s, fl->data_after_bdat, NULL);
        return;
    }
    hp_buf_free(&s->msg);
    hp_buf_init(&s->msg, (size_t)s->cf->max_message);
    s->msg_size = 0;
    s->midline = false;
    s->st = ST_DATA;
    say0(s, fl->data_go);
}

/* The terminating "." came: store, describe, answer with a queue id. */
static void end_message(struct smtp_sess *s)
{
    const struct smtp_flavour *fl = s->cf->fl;
    char sha[HP_SHA256_HEX_LEN + 1] = "", qid[32], name[64];
    queue_id(fl, qid, sizeof(qid));
    s->st = ST_CMD;
    s->nmsgs++;
    snprintf(name, sizeof(name), "%s.eml", qid);
    struct hp_upload_info u = { .data_dir = s->cf->data_dir, .filename = name, .filename_len = strlen(name),
                                .detail = "smtp", .size = s->msg_size };
    bool stored = hp_upload_record(&s->c->ctx, &u, s->msg.data ? s->msg.data : (const uint8_t *)"", s->msg.len,
                                   sha) == 0;
    ev_message(s, sha, qid, stored);
    if (s->msg_size > s->msg.len) {
        say0(s, fl->too_big);             /* as a real MTA: too big is refused, after reading it all */
    } else if (s->bdat) {
        char n[24];                       /* Postfix counts the CRLF it adds to an unended last line */
        bool unended = s->msg.len && s->msg.data[s->msg.len - 1] != '\n';
        snprintf(n, sizeof(n), "%llu", (unsigned long long)(s->msg_size + (unended ? 2 : 0)));
        say(s, fl->bdat_queued, n, qid, NULL);
    } else {
        say(s, fl->queued, qid, NULL, NULL);
    }
    reset_txn(s);
}

/* One line (or piece of a long line) of the DATA body. */
static void data_line(struct smtp_sess *s, const uint8_t *line, size_t len, bool complete)
{
    const uint8_t *p = line;
    size_t n = len;
    if (!s->midline && complete && smtp_data_line(line, len, &p, &n)) {
        end_message(s);
        return;
    }
    if (!s->midline && !complete && len && line[0] == '.') {
        p = line + 1;                       /* unstuff the start of a long line too */
        n = len - 1;
    }
    s->midline = !complete;
    uint64_t add = n + (complete ? 2 : 0);
    s->msg_size += add;
    if (s->msg.len + add <= s->msg.cap) {
        hp_buf_put(&s->msg, p, n);
        if (complete)
            hp_buf_put(&s->msg, "\r\n", 2);
    }
}

/* ---- BDAT (CHUNKING, RFC 3030) ------------------------------------------------------------- */

/* The chunk has all its bytes: answer it, or end the message with LAST. */
static void bdat_done(struct smtp_sess *s)
{
    const struct smtp_flavour *fl = s->cf->fl;
    s->st = ST_CMD;
    if (s->bdat_drop) {
        s->bdat_drop = false;
        error_reply(s, s->have_from ? fl->no_rcpts : fl->need_rcpt, NULL);
        return;
    }
    if (s->bdat_last) {
        end_message(s);
        return;
    }
    char n[24];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)s->msg_size);
    say(s, fl->bdat_ok, n, NULL, NULL);
}

/* Chunk bytes, taken as they are (no dot-stuffing in BDAT). */
static void bdat_bytes(struct smtp_sess *s, const uint8_t *p, size_t n)
{
    s->bdat_left -= n;
    if (!s->bdat_drop) {
        s->msg_size += n;
        if (s->msg.len + n <= s->msg.cap)
            hp_buf_put(&s->msg, p, n);
    }
    if (s->bdat_left == 0)
        bdat_done(s);
}

/* "BDAT count [LAST]": the count must be read whatever the state, so a
 * chunk outside a transaction is read and refused; a count that cannot be
 * parsed leaves no way to find the next command, and Postfix hangs up. */
static void cmd_bdat(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    struct smtp_cmd a;
    uint64_t v = 0;
    smtp_cmd_split(cmd->arg, cmd->arglen, &a);
    size_t dl = strlen(a.verb);
    bool ok = dl > 0 && dl <= 18 && !a.verb_cut;
    for (size_t i = 0; ok && i < dl; i++) {
        ok = a.verb[i] >= '0' && a.verb[i] <= '9';
        v = v * 10 + (uint64_t)(a.verb[i] - '0');
    }
    bool last = a.arglen == 4 && strncasecmp((const char *)a.arg, "LAST", 4) == 0;
    if (!ok || (a.arglen && !last)) {
        say0(s, fl->bdat_syntax);
        finish(s, "bdat_syntax");
        return;
    }
    s->bdat_drop = s->nrcpt == 0;
    if (!s->bdat_drop && !s->bdat) {
        hp_buf_free(&s->msg);
        hp_buf_init(&s->msg, (size_t)s->cf->max_message);
        s->msg_size = 0;
        s->bdat = true;
    }
    s->bdat_last = last;
    s->bdat_left = v;
    s->st = ST_BDAT;
    if (v == 0)
        bdat_done(s);
}

/* ---- AUTH ------------------------------------------------------------------------------------ */

static void auth_result(struct smtp_sess *s, const uint8_t *user, size_t ulen, const uint8_t *pass, size_t plen,
                        const uint8_t *authzid, size_t zlen)
{
    const struct smtp_flavour *fl = s->cf->fl;
    s->auth_attempts++;
    s->st = ST_CMD;
    bool ok = hp_login_nth(s->auth_attempts, s->cf->accept_after);
    ev_login(s, ok, user, ulen, pass, plen, authzid, zlen);
    if (ok) {
        s->authed = true;
        say0(s, fl->auth_ok);
        return;
    }
    say0(s, fl->auth_fail);
    if (s->auth_attempts >= s->cf->max_auth_tries) {
        say(s, fl->errors, host_of(s), NULL, NULL);
        finish(s, "max_auth_tries");
    }
}

/* A base64 response of the AUTH exchange (or the initial response). */
static void auth_response(struct smtp_sess *s, const uint8_t *line, size_t len, bool initial)
{
    const struct smtp_flavour *fl = s->cf->fl;
    uint8_t dec[SMTP_AUTH_MAX];
    if (len == 1 && line[0] == '*') {
        s->st = ST_CMD;
        error_reply(s, fl->auth_abort, NULL);
        return;
    }
    long n = smtp_b64_decode(line, len, dec, sizeof(dec));
    if (fl->auth_step && (n < 0 ? !initial : initial && n == 0)) {
        s->st = ST_CMD;
        error_reply(s, fl->auth_step, NULL);
        return;
    }
    if (n < 0) {
        s->st = ST_CMD;
        error_reply(s, fl->auth_decode, NULL);
        return;
    }
    if (s->st == ST_AUTH_PLAIN) {
        struct smtp_plain pl;
        if (!smtp_auth_plain(dec, (size_t)n, &pl)) {
            s->st = ST_CMD;
            error_reply(s, fl->auth_decode, NULL);
            return;
        }
        auth_result(s, pl.user, pl.userlen, pl.pass, pl.passlen, pl.authzid, pl.authzidlen);
    } else if (s->st == ST_AUTH_USER) {
        s->auth_userlen = (size_t)n < sizeof(s->auth_user) ? (size_t)n : sizeof(s->auth_user);
        memcpy(s->auth_user, dec, s->auth_userlen);
        s->st = ST_AUTH_PASS;
        say0(s, "334 UGFzc3dvcmQ6");
    } else {
        auth_result(s, s->auth_user, s->auth_userlen, dec, (size_t)n, NULL, 0);
    }
}

static void cmd_auth(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    if (!s->helo_seen && !fl->helo_optional) {
        error_reply(s, fl->need_helo, NULL);
        return;
    }
    if (fl->auth_syntax && cmd->arglen == 0) {
        error_reply(s, fl->auth_syntax, NULL);
        return;
    }
    if (s->authed) {
        error_reply(s, fl->auth_twice, NULL);
        return;
    }
    if (s->have_from) {
        error_reply(s, "503 5.5.1 Error: MAIL transaction in progress", NULL);
        return;
    }
    struct smtp_cmd mech;
    smtp_cmd_split(cmd->arg, cmd->arglen, &mech);
    if (strcmp(mech.verb, "PLAIN") == 0) {
        s->auth_mech = "plain";
        s->st = ST_AUTH_PLAIN;
        if (mech.arglen)
            auth_response(s, mech.arg, mech.arglen, true);
        else
            say0(s, "334 ");
    } else if (strcmp(mech.verb, "LOGIN") == 0) {
        s->auth_mech = "login";
        s->st = ST_AUTH_USER;
        if (mech.arglen)
            auth_response(s, mech.arg, mech.arglen, true);
        else
            say0(s, "334 VXNlcm5hbWU6");
    } else {
        error_reply(s, fl->auth_mech, NULL);
    }
}

static void cmd_starttls(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    if (fl->arg_syntax && cmd->arglen && !s->tls) {
        error_reply(s, fl->arg_syntax, "STARTTLS");
        return;
    }
    if (s->tls) {
        error_reply(s, fl->tls_twice, NULL);
        return;
    }
    if (!s->cf->tls || !hp_tlsterm_ready() || !(s->tls = hp_tlsterm_new())) {
        error_reply(s, fl->tls_na, NULL);
        return;
    }
    s->switching = true;                /* the 220 goes out in clear, the rest is TLS */
    say0(s, fl->tls_go);
    /* RFC 3207: everything learnt before is forgotten */
    s->helo_seen = false;
    s->helo[0] = '\0';
    reset_txn(s);
}

/* ETRN: Postfix flushes no domain here (fast_flush_domains is empty). */
static void cmd_etrn(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    char dom[256];
    size_t n = cmd->arglen < sizeof(dom) - 1 ? cmd->arglen : sizeof(dom) - 1;
    memcpy(dom, cmd->arg ? (const char *)cmd->arg : "", n);
    dom[n] = '\0';
    if (!s->helo_seen)
        error_reply(s, fl->helo_first, NULL);
    else if (s->have_from)
        error_reply(s, "503 Error: MAIL transaction in progress", NULL);
    else if (!n || strpbrk(dom, " \t"))
        error_reply(s, fl->etrn_syntax, NULL);
    else
        say(s, fl->etrn_na, dom[0] == '@' || dom[0] == '#' ? dom + 1 : dom, NULL, NULL);
}

static void cmd_vrfy(struct smtp_sess *s, const struct smtp_cmd *cmd)
{
    const struct smtp_flavour *fl = s->cf->fl;
    char a[SMTP_ADDR_MAX + 1];
    if (fl->vrfy_syntax && cmd->arglen == 0) {
        error_reply(s, fl->vrfy_syntax, NULL);
        return;
    }
    snprintf(a, sizeof(a), "%.*s", (int)(cmd->arglen < SMTP_ADDR_MAX ? cmd->arglen : SMTP_ADDR_MAX),
             cmd->arg ? (const char *)cmd->arg : "");
    if (fl->vrfy_syntax && strpbrk(a, " \t"))
        error_reply(s, fl->bad_to, NULL);   /* "VRFY a b": Postfix parses it as one address */
    else
        say(s, fl->vrfy, a, NULL, NULL);
}

/* Postfix's smtpd_forbidden_commands (CONNECT GET POST, and a verb that
 * does not start with a letter): an HTTP request or TLS sent to port 25
 * gets one line and the connection is closed (nmap -sV's GetRequest). */
static bool forbidden(const struct smtp_cmd *cmd)
{
    int c = (unsigned char)cmd->verb[0];
    return !(c >= 'A' && c <= 'Z') || strcmp(cmd->verb, "GET") == 0 || strcmp(cmd->verb, "POST") == 0 ||
           strcmp(cmd->verb, "CONNECT") == 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static bool is(const struct smtp_cmd *cmd, const char *v)
{
    return strcmp(cmd->verb, v) == 0;
}

static void command(struct smtp_sess *s, const uint8_t *line, size_t len)
{
    const struct smtp_flavour *fl = s->cf->fl;
    struct smtp_cmd cmd;
    smtp_cmd_split(line, len, &cmd);
    bool injection = addr_injection(line, len, cmd.verb);
    ev_command(s, line, len, cmd.verb, injection);
    if (injection)
        hp_capture_scan(&s->c->ctx, line, len, "smtp");     /* the URL it fetches */
    if (++s->ncmds > SMTP_MAX_CMDS) {
        say(s, fl->errors, host_of(s), NULL, NULL);
        finish(s, "max_commands");
        return;
    }
    if (fl->bad_syntax && !cmd.verb[0]) {
        error_reply(s, fl->bad_syntax, NULL);       /* an empty line, or one that starts with NUL */
        return;
    }
    if (fl->forbidden && forbidden(&cmd)) {
        say0(s, fl->forbidden);
        finish(s, "forbidden_command");
        return;
    }
    if (is(&cmd, "EHLO"))
        cmd_helo(s, &cmd, true);
    else if (is(&cmd, "HELO"))
        cmd_helo(s, &cmd, false);
    else if (is(&cmd, "MAIL"))
        cmd_mail(s, &cmd);
    else if (is(&cmd, "RCPT"))
        cmd_rcpt(s, &cmd);
    else if (is(&cmd, "DATA"))
        cmd_data(s);
    else if (is(&cmd, "AUTH"))
        cmd_auth(s, &cmd);
    else if (is(&cmd, "STARTTLS"))
        cmd_starttls(s, &cmd);
    else if (is(&cmd, "BDAT") && fl->bdat_ok)
        cmd_bdat(s, &cmd);
    else if (is(&cmd, "ETRN") && fl->etrn_na)
        cmd_etrn(s, &cmd);
    else if ((is(&cmd, "XCLIENT") || is(&cmd, "XFORWARD")) && fl->xclient)
        error_reply(s, fl->xclient, NULL);
    else if (is(&cmd, "RSET") && fl->arg_syntax && cmd.arglen)
        error_reply(s, fl->arg_syntax, "RSET");
    else if (is(&cmd, "RSET")) {
        reset_txn(s);
        say0(s, fl->rset);
    } else if (is(&cmd, "NOOP"))
        say0(s, fl->noop);
    else if (is(&cmd, "VRFY"))
        cmd_vrfy(s, &cmd);
    else if (fl->bad_syntax && (is(&cmd, "EXPN") || is(&cmd, "HELP")))
        error_reply(s, fl->unknown, NULL);          /* Postfix has neither: unknown commands, errors */
    else if (is(&cmd, "EXPN"))
        say0(s, fl->expn);
    else if (is(&cmd, "HELP"))
        say0(s, fl->help);
    else if (is(&cmd, "QUIT")) {
        say(s, fl->quit, host_of(s), NULL, NULL);
        finish(s, "quit");
    } else {
        char v[SMTP_VERB_MAX + 64];
        snprintf(v, sizeof(v), "%.*s", (int)(len < 64 ? len : 64), (const char *)line);
        error_reply(s, fl->unknown, v);
    }
}

/* Whole lines of p[0..n) in the current state; returns the bytes used.
 * Stops after STARTTLS: what follows is TLS. */
static size_t process(struct smtp_sess *s, const uint8_t *p, size_t n, bool eof)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    while (!s->closing && !s->switching && hp_rd_left(&r)) {
        const uint8_t *line;
        size_t len;
        if (s->st == ST_BDAT) {
            size_t take = hp_rd_left(&r) < s->bdat_left ? hp_rd_left(&r) : (size_t)s->bdat_left;
            bdat_bytes(s, hp_rd_bytes(&r, take), take);
            continue;
        }
        if (s->skip_line) {
            long lf = hp_rd_find(&r, "\n", 1);
            hp_rd_skip(&r, lf < 0 ? hp_rd_left(&r) : (size_t)lf + 1);
            s->skip_line = lf < 0;
            continue;
        }
        size_t cut = s->st == ST_CMD ? s->cf->fl->line_cut : 0;
        size_t max = s->st == ST_DATA ? SMTP_DATA_LINE : cut ? cut + 2 : s->st == ST_CMD ? SMTP_LINE_MAX : SMTP_AUTH_MAX;
        if (!smtp_line(&r, max, &s->seen, &line, &len)) {
            if (hp_rd_left(&r) < max && !eof)
                break;          /* s->seen: where the next read's search goes on */
            /* longer than any line may be: a body line is taken in pieces, a command refused,
             * or (Postfix) cut, its rest skipped up to the LF */
            size_t take = hp_rd_left(&r) < max ? hp_rd_left(&r) : max;
            s->seen = 0;
            if (cut && take > cut)
                take = cut;
            line = hp_rd_bytes(&r, take);
            if (s->st == ST_DATA) {
                data_line(s, line, take, false);
            } else if (cut) {
                s->skip_line = !eof;
                command(s, line, take);
            } else {
                s->st = ST_CMD;
                error_reply(s, s->cf->fl->line_long, NULL);
            }
            continue;
        }
        if (s->st == ST_DATA) {
            data_line(s, line, len, true);
            continue;
        }
        /* "\r\r\n" (clients that add CR to CRLF) and trailing blanks: Postfix ignores them too */
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (s->st != ST_CMD)
            auth_response(s, line, len, false);
        else
            command(s, line, len);
    }
    return hp_rd_pos(&r);
}

/* ---- TLS ------------------------------------------------------------------------------------ */

static void note_tls(struct smtp_sess *s)
{
    struct hp_ev ev;
    s->tls_noted = true;
    hp_ev_begin(&ev, &s->c->ctx, "smtp.starttls");
    hp_ev_str(&ev, "version", hp_tlsterm_version(s->tls));
    hp_ev_str(&ev, "cipher", hp_tlsterm_cipher(s->tls));
    if (s->cf->implicit_tls)
        hp_ev_bool(&ev, "implicit", true);     /* SMTPS: no STARTTLS came before it */
    hp_ev_emit(&ev);
}

static void greet(struct smtp_sess *s);

/* Ciphertext in, commands out (the plaintext buffer refills from
 * tlsterm's own when it was full). */
static void tls_data(struct smtp_sess *s, struct hp_rd *in)
{
    const uint8_t *p = hp_rd_ptr(in);
    size_t n = hp_rd_left(in);
    hp_rd_skip(in, n);
    if (!s->plain.cap)
        hp_buf_init(&s->plain, SMTP_PLAIN_MAX);
    for (int round = 0; round < 64 && !s->closing; round++) {
        const char *why = NULL;
        int r = hp_tlsterm_conn_feed(s->c, s->tls, p, n, &s->plain, 4u << 20, &why);
        p = NULL;
        n = 0;
        if (!s->tls_noted && hp_tlsterm_done(s->tls)) {
            note_tls(s);
            if (s->greet_pending) {
                s->greet_pending = false;
                greet(s);
            }
        }
        if (r < 0) {
            s->closing = true;
            hp_tlsterm_conn_failed(s->c, why);
            return;
        }
        bool full = s->plain.len >= s->plain.cap;
        if (s->plain.len)
            hp_buf_consume(&s->plain, process(s, s->plain.data, s->plain.len, false));
        if (r == 1 && !s->closing) {
            finish(s, "tls_closed");
            return;
        }
        if (!full || s->plain.len >= s->plain.cap)
            return;
    }
}

/* ---- module callbacks ------------------------------------------------------------------------ */

/* The 220 banner: at accept, or with implicit TLS once the handshake is done. */
static void greet(struct smtp_sess *s)
{
    char date[64];
    time_t now = (time_t)(hp_now_us() / 1000000);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), s->cf->fl->qid == 2 ? "%a, %-d %b %Y %H:%M:%S +0000" : "%a, %d %b %Y %H:%M:%S +0000",
             &tm);
    say(s, s->cf->fl->banner, host_of(s), s->cf->version, date);
}

static void smtp_accept(struct hp_conn *c)
{
    struct smtp_sess *s = c->pstate;
    s->c = c;
    s->cf = conf_of(c);
    if (!s->cf->fl) {
        hp_conn_close(c, "not_started");
        return;
    }
    s->auth_mech = "plain";
    hp_buf_init(&s->rcpts, SMTP_RCPT_BYTES);
    if (s->cf->implicit_tls) {
        /* SMTPS: the client speaks TLS first; a failed handshake is tls.failed */
        if (!hp_tlsterm_ready() || !(s->tls = hp_tlsterm_new())) {
            hp_conn_close(c, "tls_unavailable");
            return;
        }
        s->greet_pending = true;
        return;
    }
    greet(s);
}

static void smtp_data(struct hp_conn *c, struct hp_rd *in)
{
    struct smtp_sess *s = c->pstate;
    if (s->closing || !s->cf->fl) {
        hp_rd_skip(in, hp_rd_left(in));
        return;
    }
    if (!s->tls) {
        hp_rd_skip(in, process(s, hp_rd_ptr(in), hp_rd_left(in), false));
        if (!s->switching || s->closing)
            return;
    }
    s->switching = false;
    if (hp_rd_left(in))
        tls_data(s, in);
}

static void smtp_eof(struct hp_conn *c)
{
    struct smtp_sess *s = c->pstate;
    size_t have;
    const uint8_t *p = hp_conn_input(c, &have);
    if (!s->closing && !s->tls && have && s->cf->fl)
        hp_conn_consume(c, process(s, p, have, true));     /* a last line without CRLF */
    if (!s->closing)
        finish(s, "eof");
}

static void smtp_close(struct hp_conn *c)
{
    struct smtp_sess *s = c->pstate;
    if (!s)
        return;
    if ((s->st == ST_DATA || s->bdat) && s->msg_size && s->cf && s->cf->fl) {   /* BDAT: chunks before LAST */
        char sha[HP_SHA256_HEX_LEN + 1] = "";         /* a message cut short is still kept */
        struct hp_upload_info u = { .data_dir = s->cf->data_dir, .filename = "incomplete.eml",
                                    .filename_len = 14, .detail = "smtp", .size = s->msg_size };
        bool stored = hp_upload_record(&s->c->ctx, &u, s->msg.data ? s->msg.data : (const uint8_t *)"", s->msg.len,
                                       sha) == 0;
        ev_message(s, sha, "", stored);
    }
    hp_tlsterm_free(s->tls);
    s->tls = NULL;
    hp_buf_free(&s->plain);
    hp_buf_free(&s->rcpts);
    hp_buf_free(&s->msg);
}

const struct hp_proto hp_proto_smtp = {
    .name = "smtp",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "25",
    .conn_state_size = sizeof(struct smtp_sess),
    .default_max_input = 64ull << 20,
    .configure = smtp_configure,
    .unconfigure = smtp_unconfigure,
    .start = smtp_start,
    .on_accept = smtp_accept,
    .on_data = smtp_data,
    .on_eof = smtp_eof,
    .on_close = smtp_close,
};
