/*
 * telnet.c - the Telnet front-end: a Linux/BusyBox telnetd look-alike with
 * login(1), handing successful logins to the emulated shell (src/shell/).
 *
 * Bytes from the client go through the option parser (telnet_opts.c) and
 * then, as plain data, to a small login(1) emulation with the line
 * discipline of a pty in canonical mode (echo, erase, kill, ^C, ^D), and
 * after a successful login to hp_shell_input().  Everything the module sends
 * to the client is gathered during a callback and written at its end, so a
 * negotiation burst and a prompt go out in one segment as a real telnetd's
 * usually do.
 *
 * Personalities (what the real daemon sends, byte for byte, up to the
 * login prompt):
 *
 *   busybox   IAC DO ECHO, IAC DO NAWS, IAC WILL ECHO, IAC WILL SGA, then
 *             "\r\r\n" (busybox prints "\r" + "\n" through a tty with ONLCR),
 *             the issue text (default empty) and "HOST login: ".  Failed
 *             logins: "\r\n", a delay, "Login incorrect\r\n", a new prompt.
 *             BusyBox telnetd never answers the client's requests (not even
 *             with a refusal) and only doubles IAC on output; the parser's
 *             quiet mode does the same.  (hydra depends on that silence: a
 *             refused WILL LINEMODE makes it type one byte per packet.)
 *   linux     netkit/inetutils telnetd: IAC DO TTYPE, DO TSPEED, DO XDISPLOC,
 *             DO NEW-ENVIRON, and nothing else until the client answers all
 *             four (or sends data, or negotiation_timeout passes); then the
 *             SB ... SEND requests for what the client agreed to, WILL SGA,
 *             DO ECHO, DO NAWS, WILL STATUS, DO LFLOW, WILL ECHO, the issue
 *             text ("Debian GNU/Linux 12\r\n") and "HOST login: " as shadow's
 *             login(1) on Debian 12 prints it; a failed login shows
 *             "\r\nLogin incorrect\r\n".  Requests of the client are agreed
 *             or refused once (RFC 1143); a bare CR goes out as CR NUL.
 *
 * A login line is kept at TN_LINE_MAX bytes (the rest of the line is
 * dropped, as a full tty line is); the user name is the first word, as
 * BusyBox login takes it; the password is the whole line.  Time limits use
 * the module's one timer (hp_conn_set_timer) for the earliest of the login
 * timeout, the linux negotiation wait and the fail delay; nothing blocks.
 *
 * Events: login.failed / login.success (one per password entered),
 * client.size (NAWS), client.term (TTYPE IS), client.var (each NEW-ENVIRON
 * variable: logged, never used - "USER=-f root" and friends are data), and
 * log.closed for the session recording.  The shell emits command.input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "login.h"
#include "proto.h"
#include "util.h"
#include "telnet_opts.h"
#include "../shell/shell.h"
#include "../shell/persona.h"
#include "../shell/vfs.h"
#include "../shell/ttylog.h"
#include "../shell/userdb.h"

enum tn_personality { P_BUSYBOX, P_LINUX };

struct tn_conf {
    enum tn_personality personality;
    char *hostname;               /* configured; NULL: the sensor's identity */
    char *issue;                  /* text before the first prompt; NULL: the personality's */
    size_t issue_len;
    char *userdb_path;
    struct hp_userdb *userdb;
    uint64_t accept_after;        /* 0: off */
    uint64_t max_auth_tries;
    uint64_t auth_fail_delay_ms;
    uint64_t login_timeout_ms;    /* 0: none */
    uint64_t negotiation_timeout_ms;
    bool record;
    uint64_t record_max;
    char *ttydir;
    char *data_dir;               /* files created in the shell: DATA_DIR/payloads */
};

/* The shell's machine behind each telnetd personality (persona.h). */
static const struct hp_persona *tn_shell_persona(const struct tn_conf *cf)
{
    return hp_persona_get(cf->personality == P_BUSYBOX ? "busybox" : "debian");
}

#define TN_LINE_MAX      512      /* bytes kept of a line typed at login (a tty keeps 4095) */
#define TN_AHEAD_MAX     4096     /* typeahead while login is not reading */
#define TN_OUT_FLUSH     16384    /* gathered output is written at the latest at this size */
#define TN_MAX_SIZE_EV   32       /* client.size events per connection */
#define TN_MAX_TERM_EV   16
#define TN_MAX_VAR_EV    64
#define TN_EMPTY_LINES   10       /* empty user names before login gives up (busybox) */

enum tn_state { S_NEGOTIATE, S_USER, S_PASS, S_FAILWAIT, S_SHELL, S_CLOSED };

struct tn_sess {
    struct hp_tn tn;
    const struct tn_conf *cf;
    const struct hp_evctx *ctx;
    const struct hp_tn_io *io;
    void *arg;
    const char *host;
    enum tn_state state;
    int depth;                    /* >0 while inside an engine entry point */
    struct hp_buf out;            /* output gathered during the current entry */
    struct hp_buf line;           /* the line being typed at login */
    struct hp_buf user;           /* the user name of the attempt in progress */
    struct hp_buf ahead;          /* typeahead */
    unsigned attempts;
    unsigned empty_lines;
    unsigned width, height;
    unsigned ev_w, ev_h;          /* last client.size emitted */
    unsigned n_size, n_term, n_var;
    int64_t t_login, t_neg, t_fail;   /* deadlines, monotonic ms; 0 = none */
    int64_t tty_start;
    bool eof;
    bool neg_data;                /* data arrived during the initial negotiation */
    char term[64];
    struct hp_shell *shell;
    struct hp_ttylog *tty;
};

/* ---- configuration ------------------------------------------------------------------ */

static bool valid_hostname(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

static void tn_unconfigure(struct hp_service_cfg *svc);

static int tn_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct tn_conf *tc = hp_xcalloc(1, sizeof(*tc));
    tc->personality = P_BUSYBOX;
    tc->max_auth_tries = 3;
    tc->auth_fail_delay_ms = 2000;
    tc->login_timeout_ms = 60000;
    tc->negotiation_timeout_ms = 10000;
    tc->record = true;
    tc->record_max = 1024 * 1024;
    svc->proto_conf = tc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b;
        if (strcmp(kv->key, "personality") == 0) {
            if (strcmp(kv->value, "busybox") == 0)
                tc->personality = P_BUSYBOX;
            else if (strcmp(kv->value, "linux") == 0 || strcmp(kv->value, "debian") == 0)
                tc->personality = P_LINUX;
            else
                bad = 1;
        } else if (strcmp(kv->key, "hostname") == 0) {
            bad = !valid_hostname(kv->value);
            if (!bad) {
                free(tc->hostname);
                tc->hostname = hp_xstrdup(kv->value);
            }
        } else if (strcmp(kv->key, "issue") == 0) {
            free(tc->issue);
            tc->issue = hp_unescape(kv->value, &tc->issue_len);
            bad = !tc->issue || tc->issue_len > 4096;
        } else if (strcmp(kv->key, "userdb") == 0) {
            bad = kv->value[0] == '\0';
            free(tc->userdb_path);
            tc->userdb_path = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "accept_after") == 0) {
            bad = hp_parse_u64(kv->value, 0, 1000, &tc->accept_after);
        } else if (strcmp(kv->key, "max_auth_tries") == 0) {
            bad = hp_parse_u64(kv->value, 1, 1000, &tc->max_auth_tries);
        } else if (strcmp(kv->key, "auth_fail_delay") == 0) {
            bad = hp_parse_duration_ms(kv->value, &tc->auth_fail_delay_ms) ||
                  tc->auth_fail_delay_ms > 60000;
        } else if (strcmp(kv->key, "login_timeout") == 0) {
            bad = hp_parse_duration_ms(kv->value, &tc->login_timeout_ms) ||
                  tc->login_timeout_ms > 24ull * 3600 * 1000;
        } else if (strcmp(kv->key, "negotiation_timeout") == 0) {
            bad = hp_parse_duration_ms(kv->value, &tc->negotiation_timeout_ms) ||
                  tc->negotiation_timeout_ms < 1 || tc->negotiation_timeout_ms > 600000;
        } else if (strcmp(kv->key, "record") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            tc->record = !bad && b;
        } else if (strcmp(kv->key, "record_max") == 0) {
            bad = hp_parse_size(kv->value, &tc->record_max) || tc->record_max < 1024;
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol telnet)", kv->line,
                     kv->key, svc->name);
            tn_unconfigure(svc);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name,
                     kv->key, kv->value);
            tn_unconfigure(svc);
            return -1;
        }
    }
    return 0;
}

static void tn_unconfigure(struct hp_service_cfg *svc)
{
    struct tn_conf *tc = svc->proto_conf;
    if (tc) {
        hp_userdb_free(tc->userdb);
        free(tc->hostname);
        free(tc->issue);
        free(tc->userdb_path);
        free(tc->ttydir);
        free(tc->data_dir);
    }
    free(tc);
    svc->proto_conf = NULL;
}

static int tn_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct tn_conf *tc = svc->proto_conf;
    if (!tc->userdb) {
        tc->userdb = hp_userdb_load(tc->userdb_path, err, errlen);
        if (!tc->userdb)
            return -1;
    }
    if (tc->record && !tc->ttydir) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/tty", cfg->data_dir);
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        tc->ttydir = hp_xstrdup(dir);
    }
    if (!tc->data_dir)
        tc->data_dir = hp_xstrdup(cfg->data_dir);
    tn_shell_persona(tc);         /* drawn now: the identity file shows it from the start */
    sh_vfs_configure(cfg->shell_persist_ms / 1000, cfg->shell_source_bytes, cfg->shell_total_bytes);
    return 0;
}

static void tn_stop(struct hp_service_cfg *svc)
{
    struct tn_conf *tc = svc->proto_conf;
    if (tc) {
        hp_userdb_free(tc->userdb);
        tc->userdb = NULL;
    }
}

/* ---- output ----------------------------------------------------------------------- */

static int64_t now_ms(const struct tn_sess *s)
{
    return s->io->now_ms ? s->io->now_ms(s->arg) : hp_mono_ms();
}

static void flush_out(struct tn_sess *s)
{
    if (s->out.len && s->state != S_CLOSED && s->io->send(s->arg, s->out.data, s->out.len) != 0)
        s->state = S_CLOSED;          /* the connection is going away on its own */
    hp_buf_reset(&s->out);
}

/* Raw bytes to the client (already in Telnet form). */
static void emit_raw(struct tn_sess *s, const void *p, size_t n)
{
    if (s->state == S_CLOSED || n == 0)
        return;
    if (s->out.len + n > TN_OUT_FLUSH)
        flush_out(s);
    if (n >= TN_OUT_FLUSH || s->depth == 0) {
        if (s->state != S_CLOSED && s->io->send(s->arg, p, n) != 0)
            s->state = S_CLOSED;
        return;
    }
    if (!hp_buf_put(&s->out, p, n)) {   /* cannot happen below the cap; be safe */
        hp_buf_reset(&s->out);
        if (s->io->send(s->arg, p, n) != 0)
            s->state = S_CLOSED;
    }
}

/* Text to the client as data (IAC doubled, bare CR as CR NUL). */
static void say(struct tn_sess *s, const void *p, size_t n)
{
    if (s->state != S_CLOSED)
        hp_tn_write(&s->tn, p, n);
}

static void says(struct tn_sess *s, const char *str)
{
    say(s, str, strlen(str));
}

static void close_sess(struct tn_sess *s, const char *reason)
{
    if (s->state == S_CLOSED)
        return;
    flush_out(s);
    if (s->state == S_CLOSED)
        return;
    s->state = S_CLOSED;
    s->io->set_timer(s->arg, 0);
    s->io->close(s->arg, reason);
}

static void rearm(struct tn_sess *s)
{
    if (s->state == S_CLOSED)
        return;
    int64_t due = 0;
    if (s->t_login && s->state != S_SHELL)
        due = s->t_login;
    if (s->t_neg && s->state == S_NEGOTIATE && (!due || s->t_neg < due))
        due = s->t_neg;
    if (s->t_fail && s->state == S_FAILWAIT && (!due || s->t_fail < due))
        due = s->t_fail;
    if (!due) {
        s->io->set_timer(s->arg, 0);
        return;
    }
    int64_t now = now_ms(s);
    s->io->set_timer(s->arg, due > now ? (uint64_t)(due - now) : 1);
}

static void enter(struct tn_sess *s)
{
    s->depth++;
}

static void leave(struct tn_sess *s)
{
    if (--s->depth > 0)
        return;
    /* A client that half-closed and has nothing left for login is done. */
    if (s->eof && s->ahead.len == 0 &&
        (s->state == S_USER || s->state == S_PASS || s->state == S_NEGOTIATE))
        close_sess(s, "eof");
    flush_out(s);
    rearm(s);
}

/* ---- events --------------------------------------------------------------------- */

/* A buffer's bytes, never NULL (an empty hp_buf has no memory yet). */
static const uint8_t *bytes_of(const struct hp_buf *b)
{
    return b->data ? b->data : (const uint8_t *)"";
}

static void ev_login(struct tn_sess *s, bool ok, const uint8_t *pass, size_t plen)
{
    const struct hp_login l = { bytes_of(&s->user), s->user.len, pass, plen, "telnet", s->attempts };
    struct hp_ev ev;
    hp_login_ev_begin(&ev, s->ctx, ok, &l);
    hp_login_ev_emit(&ev, &l);
}

static void ev_size(struct tn_sess *s)
{
    if (s->n_size >= TN_MAX_SIZE_EV || (s->n_size && s->ev_w == s->width && s->ev_h == s->height))
        return;
    s->n_size++;
    s->ev_w = s->width;
    s->ev_h = s->height;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "client.size");
    hp_ev_uint(&ev, "width", s->width);
    hp_ev_uint(&ev, "height", s->height);
    hp_ev_emit(&ev);
}

static void ev_var(void *arg, int kind, const uint8_t *name, size_t nlen, const uint8_t *value,
                   size_t vlen, bool has_value)
{
    struct tn_sess *s = arg;
    (void)kind;
    (void)has_value;
    if (s->n_var >= TN_MAX_VAR_EV)
        return;
    s->n_var++;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "client.var");
    hp_ev_bytes(&ev, "name", name, nlen);
    hp_ev_bytes(&ev, "value", value, vlen);
    hp_ev_emit(&ev);
}

/* ---- the shell ------------------------------------------------------------------ */

static void term_write(void *io, const void *data, size_t len)
{
    struct tn_sess *s = io;
    if (s->state == S_CLOSED || !len)
        return;
    if (s->tty)
        hp_ttylog_write(s->tty, 'o', data, len);
    say(s, data, len);
    if (s->depth == 0)
        flush_out(s);
}

static void term_exit(void *io, int status)
{
    struct tn_sess *s = io;
    (void)status;
    close_sess(s, s->eof ? "eof" : "logout");
}

static void route(struct tn_sess *s, const uint8_t *p, size_t n);

static void take_ahead(struct tn_sess *s)
{
    if (s->ahead.len == 0)
        return;
    struct hp_buf tmp = s->ahead;     /* route() may queue into a fresh one */
    hp_buf_init(&s->ahead, TN_AHEAD_MAX);
    route(s, tmp.data, tmp.len);
    hp_buf_free(&tmp);
}

static void start_shell(struct tn_sess *s)
{
    const struct tn_conf *cf = s->cf;
    char user[TN_LINE_MAX + 1];
    size_t ul = s->user.len < TN_LINE_MAX ? s->user.len : TN_LINE_MAX;
    if (ul)
        memcpy(user, s->user.data, ul);
    user[ul] = '\0';
    for (size_t i = 0; i < ul; i++)       /* a C string for the shell: no NUL inside */
        if (user[i] == '\0')
            user[i] = '?';
    s->state = S_SHELL;
    s->t_login = 0;
    struct hp_shell_params p = {
        .ctx = s->ctx,
        .username = user,
        .hostname = s->host,
        .interactive = true,
        .width = s->width,
        .height = s->height,
        .term = { term_write, term_exit, s },
        .term_type = s->term[0] ? s->term : NULL,
        /* busybox login prints /etc/motd, which such devices rarely have;
         * Debian's login prints the uname line and Debian's motd. */
        .motd = cf->personality == P_BUSYBOX ? "" : NULL,
        .personality = tn_shell_persona(cf)->name,
        .data_dir = cf->data_dir,
    };
    if (cf->record && cf->ttydir && !s->tty) {
        s->tty = hp_ttylog_open(cf->ttydir, s->ctx->session, s->width, s->height,
                                s->term[0] ? s->term : NULL, cf->record_max);
        s->tty_start = hp_mono_ms();
    }
    s->shell = hp_shell_new(&p);
    if (!s->shell) {
        close_sess(s, "shell_error");
        return;
    }
    hp_shell_start(s->shell);
    if (s->state == S_SHELL)
        take_ahead(s);
}

/* ---- login ------------------------------------------------------------------------ */

static void prompt_login(struct tn_sess *s, bool first)
{
    const struct tn_conf *cf = s->cf;
    if (first) {
        if (cf->personality == P_BUSYBOX)
            says(s, "\r\r\n");
        if (cf->issue)
            say(s, cf->issue, cf->issue_len);
        else if (cf->personality == P_LINUX)
            says(s, "Debian GNU/Linux 12\r\n");
    }
    says(s, s->host);
    says(s, " login: ");
    hp_buf_reset(&s->line);
    s->state = S_USER;
}

static void start_login(struct tn_sess *s)
{
    struct hp_tn *t = &s->tn;
    if (s->cf->personality == P_LINUX) {
        static const uint8_t sendq[] = { HP_TNQ_SEND };
        static const uint8_t order[] = { HP_TNO_TSPEED, HP_TNO_XDISPLOC, HP_TNO_NEW_ENVIRON, HP_TNO_TTYPE };
        for (size_t i = 0; i < sizeof(order); i++)
            if (hp_tn_enabled(t, false, order[i]))
                hp_tn_send_sb(t, order[i], sendq, 1);
        hp_tn_request(t, true, HP_TNO_SGA, true);
        hp_tn_request(t, false, HP_TNO_ECHO, true);
        hp_tn_request(t, false, HP_TNO_NAWS, true);
        hp_tn_request(t, true, HP_TNO_STATUS, true);
        hp_tn_request(t, false, HP_TNO_LFLOW, true);
        hp_tn_request(t, true, HP_TNO_ECHO, true);
    }
    s->t_neg = 0;
    prompt_login(s, true);
    take_ahead(s);
}

/* Whether login echoes what is typed (the user name only).  busybox telnetd
 * leaves the pty's echo on whatever the client answered to WILL ECHO;
 * telnetd turns it off when the client refuses. */
static bool echo_on(const struct tn_sess *s)
{
    if (s->state != S_USER)
        return false;
    return s->cf->personality == P_BUSYBOX || hp_tn_state(&s->tn, true, HP_TNO_ECHO) != HP_TNS_NO;
}

static void login_failed_done(struct tn_sess *s)
{
    const struct tn_conf *cf = s->cf;
    s->t_fail = 0;
    says(s, cf->personality == P_LINUX ? "\r\nLogin incorrect\r\n" : "Login incorrect\r\n");
    if (s->attempts >= cf->max_auth_tries) {
        if (cf->personality == P_LINUX) {
            char m[80];
            snprintf(m, sizeof(m), "Maximum number of tries exceeded (%u)\r\n", s->attempts);
            says(s, m);
        }
        close_sess(s, "max_auth_tries");
        return;
    }
    prompt_login(s, false);
    take_ahead(s);
}

static void line_done(struct tn_sess *s)
{
    const struct tn_conf *cf = s->cf;
    if (s->state == S_USER) {
        if (echo_on(s))
            says(s, "\r\n");
        /* As busybox login: leading blanks skipped, the name ends at the first
         * byte <= ' '; an empty name asks again. */
        const uint8_t *p = s->line.data;
        size_t n = s->line.len, i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\v' || p[i] == '\f'))
            i++;
        size_t j = i;
        while (j < n && p[j] > ' ')
            j++;
        hp_buf_reset(&s->user);
        if (j == i) {
            hp_buf_reset(&s->line);
            if (++s->empty_lines >= TN_EMPTY_LINES) {
                close_sess(s, "login_aborted");
                return;
            }
            prompt_login(s, false);
            return;
        }
        hp_buf_put(&s->user, p + i, j - i);
        hp_buf_reset(&s->line);
        says(s, "Password: ");
        s->state = S_PASS;
        return;
    }
    /* S_PASS: the password is the whole line. */
    says(s, "\r\n");
    s->attempts++;
    bool ok = (cf->userdb && hp_userdb_check(cf->userdb, (const char *)bytes_of(&s->user), s->user.len,
                              (const char *)bytes_of(&s->line), s->line.len)) ||
              hp_login_nth(s->attempts, cf->accept_after);
    ev_login(s, ok, bytes_of(&s->line), s->line.len);
    hp_buf_reset(&s->line);
    if (ok) {
        start_shell(s);
        return;
    }
    s->state = S_FAILWAIT;
    if (cf->auth_fail_delay_ms == 0) {
        login_failed_done(s);
        return;
    }
    s->t_fail = now_ms(s) + (int64_t)cf->auth_fail_delay_ms;
}

/* One byte typed at the login prompt (canonical mode, like a pty). */
static void login_byte(struct tn_sess *s, uint8_t c)
{
    bool echo = echo_on(s);
    switch (c) {
    case '\r':
    case '\n':
        line_done(s);
        return;
    case 0x7f:                  /* VERASE */
    case 0x08:
        if (s->line.len > 0) {
            uint8_t last = s->line.data[s->line.len - 1];
            s->line.len--;
            if (echo)
                says(s, last < 0x20 ? "\b \b\b \b" : "\b \b");
        }
        return;
    case 0x15:                  /* VKILL */
        if (echo)
            for (size_t i = 0; i < s->line.len; i++)
                says(s, s->line.data[i] < 0x20 ? "\b \b\b \b" : "\b \b");
        hp_buf_reset(&s->line);
        return;
    case 0x03:                  /* VINTR: the line is dropped, login asks again */
        says(s, "^C\r\n");
        hp_buf_reset(&s->line);
        prompt_login(s, false);
        return;
    case 0x04:                  /* VEOF on an empty line: login reads EOF and exits */
        if (s->line.len == 0)
            close_sess(s, "eof");
        return;
    case 0x00:
        return;                 /* a pty in canonical mode keeps NUL, but no client types it */
    default:
        break;
    }
    if (s->line.len >= TN_LINE_MAX)
        return;                 /* the tty's line is full: dropped */
    hp_buf_putc(&s->line, c);
    if (echo) {
        if (c < 0x20) {         /* ECHOCTL */
            uint8_t e[2] = { '^', (uint8_t)(c + '@') };
            say(s, e, 2);
        } else {
            say(s, &c, 1);
        }
    }
}

/* Data bytes to whoever reads them now. */
static void route(struct tn_sess *s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (s->state) {
        case S_USER:
        case S_PASS:
            login_byte(s, p[i++]);
            break;
        case S_SHELL:
            if (s->tty)
                hp_ttylog_write(s->tty, 'i', p + i, n - i);
            hp_shell_input(s->shell, p + i, n - i);
            return;
        case S_NEGOTIATE:
            s->neg_data = true;
            /* fall through */
        case S_FAILWAIT: {
            size_t room = TN_AHEAD_MAX - s->ahead.len;
            hp_buf_put(&s->ahead, p + i, n - i < room ? n - i : room);
            return;
        }
        case S_CLOSED:
            return;
        }
    }
}

/* ---- parser callbacks ------------------------------------------------------------- */

static void cb_data(void *arg, const uint8_t *p, size_t n)
{
    route(arg, p, n);
}

static void cb_send(void *arg, const uint8_t *p, size_t n)
{
    emit_raw(arg, p, n);
}

static void cb_cmd(void *arg, uint8_t cmd)
{
    struct tn_sess *s = arg;
    if (cmd == HP_TN_AYT) {
        says(s, "\r\n[Yes]\r\n");
        return;
    }
    if (s->cf->personality != P_LINUX)
        return;                 /* busybox telnetd ignores the others */
    uint8_t c;
    switch (cmd) {              /* netkit telnetd turns them into the tty's characters */
    case HP_TN_IP:    c = 0x03; break;
    case HP_TN_EOF:   c = 0x04; break;
    case HP_TN_SUSP:  c = 0x1a; break;
    case HP_TN_ABORT: c = 0x1c; break;
    case HP_TN_EC:    c = 0x7f; break;
    case HP_TN_EL:    c = 0x15; break;
    default:          return;
    }
    route(s, &c, 1);
}

static void cb_sb(void *arg, uint8_t opt, const uint8_t *p, size_t n)
{
    struct tn_sess *s = arg;
    switch (opt) {
    case HP_TNO_NAWS: {
        unsigned w, h;
        if (!hp_tn_naws(p, n, &w, &h))
            return;
        if (w)                  /* 0 means "unknown" (RFC 1073) */
            s->width = w;
        if (h)
            s->height = h;
        ev_size(s);
        if (s->shell)
            hp_shell_resize(s->shell, s->width, s->height);
        if (s->tty)
            hp_ttylog_resize(s->tty, s->width, s->height);
        return;
    }
    case HP_TNO_TTYPE: {
        const uint8_t *name;
        size_t len;
        if (!hp_tn_ttype_is(p, n, &name, &len))
            return;
        size_t k = 0;
        for (size_t i = 0; i < len && k < sizeof(s->term) - 1; i++)
            if (name[i] > ' ' && name[i] < 0x7f)  /* $TERM for the recording */
                s->term[k++] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        s->term[k] = '\0';
        if (s->n_term < TN_MAX_TERM_EV) {
            s->n_term++;
            struct hp_ev ev;
            hp_ev_begin(&ev, s->ctx, "client.term");
            hp_ev_bytes(&ev, "term", name, len);
            hp_ev_emit(&ev);
        }
        return;
    }
    case HP_TNO_NEW_ENVIRON:
        hp_tn_environ(p, n, ev_var, s);
        return;
    default:
        return;                 /* TSPEED, XDISPLOC, LFLOW, STATUS, ...: not logged */
    }
}

static void cb_opt(void *arg, bool local, uint8_t opt, bool enabled)
{
    struct tn_sess *s = arg;
    if (local || !enabled)
        return;
    bool linux_ = s->cf->personality == P_LINUX;
    switch (opt) {
    case HP_TNO_TTYPE:
    case HP_TNO_NEW_ENVIRON:
    case HP_TNO_TSPEED:
    case HP_TNO_XDISPLOC:
        /* Ask for the value (telnetd does; busybox asks for nothing); during
         * the linux start-up these go out together once every answer is in
         * (start_login). */
        if (linux_ && s->state != S_NEGOTIATE) {
            static const uint8_t sendq[] = { HP_TNQ_SEND };
            hp_tn_send_sb(&s->tn, opt, sendq, 1);
        }
        break;
    case HP_TNO_ECHO:
        /* netkit's DO ECHO only probes for 4.2BSD clients: a WILL ECHO gets a DONT. */
        if (linux_)
            hp_tn_request(&s->tn, false, HP_TNO_ECHO, false);
        break;
    default:
        break;
    }
}

static const struct hp_tn_cb tn_callbacks = {
    .data = cb_data,
    .send = cb_send,
    .cmd = cb_cmd,
    .sb = cb_sb,
    .opt = cb_opt,
};

/* ---- the session engine ------------------------------------------------------------ */

size_t hp_tn_session_size(void)
{
    return sizeof(struct tn_sess);
}

bool hp_tn_session_closed(const void *sess)
{
    const struct tn_sess *s = sess;
    return s->state == S_CLOSED;
}

static bool negotiation_done(const struct tn_sess *s)
{
    static const uint8_t asked[] = { HP_TNO_TTYPE, HP_TNO_TSPEED, HP_TNO_XDISPLOC, HP_TNO_NEW_ENVIRON };
    for (size_t i = 0; i < sizeof(asked); i++)
        if (hp_tn_pending(&s->tn, false, asked[i]))
            return false;
    return true;
}

void hp_tn_session_open(void *sess, const struct hp_service_cfg *svc, const struct hp_evctx *ctx,
                        const struct hp_tn_io *io, void *arg)
{
    struct tn_sess *s = sess;
    const struct tn_conf *cf = svc->proto_conf;
    struct hp_tn *t = &s->tn;
    s->cf = cf;
    s->ctx = ctx;
    s->io = io;
    s->arg = arg;
    s->host = cf->hostname ? cf->hostname : tn_shell_persona(cf)->hostname;
    if (!s->host)
        s->host = "localhost";
    s->width = 80;
    s->height = 24;
    hp_buf_init(&s->out, TN_OUT_FLUSH);
    hp_buf_init(&s->line, TN_LINE_MAX);
    hp_buf_init(&s->user, TN_LINE_MAX);
    hp_buf_init(&s->ahead, TN_AHEAD_MAX);
    hp_tn_init(t, &tn_callbacks, s);
    /* busybox telnetd only doubles IAC on output and never answers a request:
     * it sends its four requests and ignores whatever the client asks. */
    t->cr_nul = cf->personality == P_LINUX;
    t->quiet = cf->personality == P_BUSYBOX;
    /* What the client may turn on. */
    static const uint8_t remote_ok[] = { HP_TNO_BINARY, HP_TNO_SGA, HP_TNO_TTYPE, HP_TNO_NAWS,
                                         HP_TNO_TSPEED, HP_TNO_LFLOW, HP_TNO_XDISPLOC, HP_TNO_NEW_ENVIRON };
    for (size_t i = 0; i < sizeof(remote_ok); i++)
        hp_tn_allow(t, false, remote_ok[i]);
    hp_tn_allow(t, true, HP_TNO_BINARY);
    hp_tn_allow(t, true, HP_TNO_ECHO);
    hp_tn_allow(t, true, HP_TNO_SGA);
    if (cf->personality == P_LINUX)
        hp_tn_allow(t, true, HP_TNO_STATUS);

    int64_t now = now_ms(s);
    if (cf->login_timeout_ms)
        s->t_login = now + (int64_t)cf->login_timeout_ms;
    enter(s);
    if (cf->personality == P_BUSYBOX) {
        hp_tn_request(t, false, HP_TNO_ECHO, true);
        hp_tn_request(t, false, HP_TNO_NAWS, true);
        hp_tn_request(t, true, HP_TNO_ECHO, true);
        hp_tn_request(t, true, HP_TNO_SGA, true);
        prompt_login(s, true);
    } else {
        hp_tn_request(t, false, HP_TNO_TTYPE, true);
        hp_tn_request(t, false, HP_TNO_TSPEED, true);
        hp_tn_request(t, false, HP_TNO_XDISPLOC, true);
        hp_tn_request(t, false, HP_TNO_NEW_ENVIRON, true);
        s->state = S_NEGOTIATE;
        s->t_neg = now + (int64_t)cf->negotiation_timeout_ms;
    }
    leave(s);
}

void hp_tn_session_input(void *sess, struct hp_rd *in)
{
    struct tn_sess *s = sess;
    if (s->state == S_CLOSED) {
        hp_rd_skip(in, hp_rd_left(in));
        return;
    }
    enter(s);
    hp_tn_feed(&s->tn, in);
    if (s->state == S_NEGOTIATE && (s->neg_data || negotiation_done(s)))
        start_login(s);
    leave(s);
}

void hp_tn_session_timer(void *sess)
{
    struct tn_sess *s = sess;
    if (s->state == S_CLOSED)
        return;
    enter(s);
    int64_t now = now_ms(s);
    if (s->t_login && s->state != S_SHELL && now >= s->t_login) {
        char m[96];
        snprintf(m, sizeof(m), "\r\nLogin timed out after %llu seconds%s\r\n",
                 (unsigned long long)(s->cf->login_timeout_ms / 1000),
                 s->cf->personality == P_LINUX ? "." : "");
        says(s, m);
        close_sess(s, "login_timeout");
    } else if (s->state == S_NEGOTIATE && s->t_neg && now >= s->t_neg) {
        start_login(s);
    } else if (s->state == S_FAILWAIT && s->t_fail && now >= s->t_fail) {
        login_failed_done(s);
    }
    leave(s);
}

void hp_tn_session_eof(void *sess)
{
    struct tn_sess *s = sess;
    if (s->state == S_CLOSED)
        return;
    enter(s);
    s->eof = true;
    if (s->state == S_NEGOTIATE)
        start_login(s);
    if (s->state == S_SHELL) {
        hp_shell_eof(s->shell);
        close_sess(s, "eof");
    }
    leave(s);                   /* closes at once unless a failed login is still being answered */
}

void hp_tn_session_close(void *sess)
{
    struct tn_sess *s = sess;
    s->state = S_CLOSED;
    if (s->shell) {
        struct hp_shell *sh = s->shell;
        s->shell = NULL;
        hp_shell_free(sh);
    }
    if (s->tty) {
        char *path = NULL;
        uint64_t size = hp_ttylog_close(s->tty, &path);
        s->tty = NULL;
        struct hp_ev ev;
        hp_ev_begin(&ev, s->ctx, "log.closed");
        hp_ev_str(&ev, "ttylog", path ? path : "");
        hp_ev_uint(&ev, "size", size);
        hp_ev_double(&ev, "duration", (double)(hp_mono_ms() - s->tty_start) / 1000.0);
        hp_ev_emit(&ev);
        free(path);
    }
    hp_buf_free(&s->out);
    hp_buf_free(&s->line);
    hp_buf_free(&s->user);
    hp_buf_free(&s->ahead);
}

/* ---- the protocol module ------------------------------------------------------------ */

static int io_send(void *arg, const void *p, size_t n)
{
    return hp_conn_send(arg, p, n);
}

static void io_close(void *arg, const char *reason)
{
    hp_conn_close(arg, reason);
}

static void io_timer(void *arg, uint64_t ms)
{
    hp_conn_set_timer(arg, ms);
}

static const struct hp_tn_io conn_io = { io_send, io_close, io_timer, NULL };

static void tn_accept(struct hp_conn *c)
{
    hp_tn_session_open(c->pstate, hp_conn_service_cfg(c), &c->ctx, &conn_io, c);
}

static void tn_data(struct hp_conn *c, struct hp_rd *in)
{
    hp_tn_session_input(c->pstate, in);
}

static void tn_eof(struct hp_conn *c)
{
    hp_tn_session_eof(c->pstate);
}

static void tn_timer(struct hp_conn *c)
{
    hp_tn_session_timer(c->pstate);
}

static void tn_close(struct hp_conn *c)
{
    hp_tn_session_close(c->pstate);
}

const struct hp_proto hp_proto_telnet = {
    .name = "telnet",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "23",
    .conn_state_size = sizeof(struct tn_sess),
    .configure = tn_configure,
    .unconfigure = tn_unconfigure,
    .start = tn_start,
    .stop = tn_stop,
    .on_accept = tn_accept,
    .on_data = tn_data,
    .on_eof = tn_eof,
    .on_timer = tn_timer,
    .on_close = tn_close,
};
