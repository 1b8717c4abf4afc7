/*
 * ssh.c - the SSH front-end: an OpenSSH look-alike on libssh, in our loop.
 *
 * Design: libssh never sees the network.  Each connection gets a socketpair;
 * libssh's session runs on one end (non-blocking, driven by
 * ssh_event_dopoll(…, 0) whenever we hand it bytes), and this module sits
 * between the other end and the client:
 *
 *     client <-> core conn (hp_conn) <-> ssh.c <-> socketpair <-> libssh
 *
 * Standing in the middle costs two copies per chunk and buys a lot: the
 * clear-text identification lines and KEXINITs of both sides are read as
 * they pass (client.version, HASSH, HASSHServer) without relying on libssh
 * internals; the core keeps its caps, timeouts and byte counts; and a failed
 * login's answer can be held back (auth_fail_delay, like sshd's PAM delay)
 * simply by not forwarding libssh's output for a while - the event loop is
 * never blocked.
 *
 * What the client may do: password, keyboard-interactive (when enabled) and public-key
 * authentication (all logged; keys always refused; passwords judged by the
 * user database), session channels with pty, env, shell and exec requests
 * handed to the emulated shell (src/shell/), direct-tcpip and tcpip-forward
 * requests logged with their first data and never relayed.  Interactive
 * sessions are recorded as asciicast files.
 *
 * Identity: the version string and algorithm lists come from a profile of a
 * real distribution's OpenSSH; host keys are generated at first start in
 * DATA_DIR/ssh/.
 */
#include <errno.h>
#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "intel/fpnames.h"
#include "intel/knowledge.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "log.h"
#include "proto.h"
#include "sensor.h"
#include "util.h"
#include "../intel/sshsniff.h"
#include "../shell/shell.h"
#include "../shell/persona.h"
#include "../shell/vfs.h"
#include "../shell/ttylog.h"
#include "../shell/userdb.h"
#include "sshfile.h"              /* sshfile: scp / sftp uploads */
#include "sshproxy.h"             /* proxy mode: the service has a backend */
#include "backend.h"

#define SSH_MAX_CHANNELS 4
#define SSH_FWD_DATA_MAX 4096     /* first bytes of a forwarding channel that are logged */
#define SSH_PUMP_ROUNDS 64
#define SSH_LOGIN_GRACE_MS 120000    /* OpenSSH's LoginGraceTime default */
#define SSH_REQ_EVENTS_MAX 256       /* logged requests (env, pty, keys, forwards) per connection */

/* ---- OpenSSH profiles -------------------------------------------------------
 * Lists as the named sshd sends them, minus what libssh 0.10 cannot do
 * (sntrup761x25519-sha512 key exchange, umac MACs): a client could never
 * complete those, so offering them would break logins. */
struct ssh_profile {
    const char *name;
    const char *version;          /* after "SSH-2.0-" */
    const char *kex, *hostkeys, *ciphers, *macs;
};

/* OpenSSH 8.2 to 9.x offer the same lists but for the host-key algorithms. */
#define OPENSSH_KEX                                                                              \
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"      \
    "ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"     \
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
#define OPENSSH_CIPHERS                                                                          \
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"    \
    "aes256-gcm@openssh.com"
#define OPENSSH_MACS                                                                             \
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,"    \
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1"

static const struct ssh_profile profiles[] = {
    { "debian12", "OpenSSH_9.2p1 Debian-2+deb12u3", OPENSSH_KEX,
      "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519", OPENSSH_CIPHERS, OPENSSH_MACS },
    { "ubuntu2204", "OpenSSH_8.9p1 Ubuntu-3ubuntu0.13", OPENSSH_KEX,
      "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519", OPENSSH_CIPHERS, OPENSSH_MACS },
    { "ubuntu2004", "OpenSSH_8.2p1 Ubuntu-4ubuntu0.13", OPENSSH_KEX,
      "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ecdsa-sha2-nistp256,ssh-ed25519", OPENSSH_CIPHERS, OPENSSH_MACS },
};

/* ---- per service ----------------------------------------------------------- */

struct ssh_conf {
    const struct ssh_profile *profile;
    char *version;                /* overrides the profile's */
    char *userdb_path;
    struct hp_userdb *userdb;
    uint64_t accept_after;        /* 0: off */
    uint64_t max_auth_tries;
    uint64_t auth_fail_delay_ms;
    bool kbdint;
    bool record;
    uint64_t record_max;
    char ttydir[4096];
    char hassh_server[33];        /* ours: the same KEXINIT lists on every connection */
    char data_dir[4096];          /* sshfile: payloads go to DATA_DIR/payloads */
    const char *personality;      /* the shell's machine (persona.h): "debian" by default */
    char backend_hostkey[128];    /* proxy: the backend key fingerprint last logged */
    ssh_bind bind;
};

/* ---- per connection --------------------------------------------------------- */

struct ssh_chan;

/*
 * What only the clear-text start of a connection needs: the sniffers of both
 * directions (identification lines, KEXINITs), our hasshServer and the
 * client's first packet after its KEXINIT.  Allocated at accept and freed as
 * soon as all of it has been used (hs_done()), normally once the key
 * exchange is under way: a logged-in idle session keeps none of it.
 */
struct ssh_hs {
    struct hp_sshsniff cli, srv;
    char hassh_server[33];
    bool kex_pending;             /* client.kex waits for our own KEXINIT (hasshServer) */
    uint64_t cli_sent;            /* client bytes handed to libssh */
    uint64_t walk_at;             /* stream offset of the client's next clear-text packet (walk_clear) */
    bool walked;                  /* walk_clear is over: the key exchange is under way */
    uint8_t next_pkt[24];         /* start of the client's packet after its KEXINIT */
    size_t next_len;
    bool next_checked;
};

struct ssh_conn {
    struct hp_conn *c;
    int sp;                       /* our end of the socketpair */
    struct event *ev_sp;
    ssh_session s;
    ssh_event sev;
    struct ssh_server_callbacks_struct scb;
    bool kex_done;
    bool dead;                    /* libssh reported an error or closed */
    bool holding;                 /* failed-login delay: libssh output held back */
    bool close_after_flush;       /* too many auth failures */
    bool auth_disconnect;         /* ... answered by sshd's disconnect once libssh returns */
    struct ssh_hs *hs;            /* NULL once the clear-text start is over */
    uint64_t auth_attempts;
    unsigned req_events;          /* requests logged so far (capped, see req_event_ok) */
    char *kbd_user;               /* keyboard-interactive: the answer carries no user name */
    char *user;                   /* logged-in user */
    struct ssh_chan *chans[SSH_MAX_CHANNELS];
    /* proxy mode: the backend session (NULL: emulation).  Channel requests
     * wait (pending_*) while it connects, then go to it or, when it failed,
     * to the emulation. */
    struct hp_sshproxy *px;
    bool pumping;                 /* inside libssh's dispatch: channel ends wait for run_pending */
};

struct ssh_chan {
    struct ssh_conn *sc;
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    bool forward;                 /* direct-tcpip: log, never relay */
    char *dest_host;
    int dest_port;
    size_t fwd_logged;
    bool pty;
    char term[64];
    unsigned width, height;
    struct hp_shell *shell;
    struct hp_ttylog *tty;
    int64_t tty_start_ms;
    char *pending_exec;           /* run after libssh returns (never inside its callbacks) */
    bool pending_shell;
    bool closed;
    /* sshfile: an scp -t/-f exec or the sftp subsystem.  Created in the request
     * callback (no output), started by sshd_run_pending(); input that arrives in
     * between is fed to it rather than lost. */
    struct hp_sshfile *file;
    bool pending_file;
    /* Output the client's window cannot take yet: libssh in non-blocking mode
     * writes only what the window allows, so the rest waits here and goes out
     * as window adjusts arrive (sshd_run_pending).  The shell's exit (EOF,
     * exit status, close) waits behind it. */
    struct hp_buf out;
    bool exit_pending;
    int exit_status;
    /* proxy mode */
    struct hp_sshproxy_chan *pc;  /* the backend channel this one is relayed to */
    bool pending_sftp;            /* sftp subsystem asked while the backend connects */
    struct hp_buf early;          /* input that arrived before the channel was started */
    bool early_eof;
    char exit_signal[32];         /* the backend's exit-signal, sent instead of a status */
    /* Upload back-pressure: while the backend is behind, client data is left
     * in libssh's channel buffer (its window then stays closed) and pulled
     * when the backend catches up; an EOF waits behind it. */
    bool throttled, pull, eof_after_pull;
};

#define SSH_PX_IN_HIGH (4u << 20)     /* client bytes waiting for the backend: stop taking more */

#define SSH_EARLY_MAX (1u << 20)      /* input held while the backend connects */

#define SSH_CHAN_OUT_MAX (8u << 20)   /* more than a line's output cap (shell) and an sftp read */

static const struct ssh_conf *conf_of(const struct hp_conn *c)
{
    return hp_conn_service_cfg(c)->proto_conf;
}

/* ---- configuration ------------------------------------------------------------ */

static int sshd_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct ssh_conf *sc = hp_xcalloc(1, sizeof(*sc));
    sc->profile = &profiles[0];
    sc->max_auth_tries = 6;
    sc->auth_fail_delay_ms = 2000;
    sc->kbdint = false;               /* Debian's and Ubuntu's sshd_config: KbdInteractiveAuthentication no */
    sc->record = true;
    sc->record_max = 1024 * 1024;
    svc->proto_conf = sc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b = 0;
        if (strcmp(kv->key, "profile") == 0) {
            sc->profile = NULL;
            for (size_t i = 0; i < HP_ARRAY_LEN(profiles); i++)
                if (strcmp(profiles[i].name, kv->value) == 0)
                    sc->profile = &profiles[i];
            bad = sc->profile == NULL;
        } else if (strcmp(kv->key, "personality") == 0) {
            const struct hp_persona *pe = hp_persona_get(kv->value);
            bad = pe == NULL;
            if (pe)
                sc->personality = pe->name;
        } else if (strcmp(kv->key, "version") == 0) {
            free(sc->version);
            sc->version = hp_xstrdup(kv->value);
            bad = strncmp(kv->value, "SSH-", 4) == 0 || strlen(kv->value) > 200 || !kv->value[0];
        } else if (strcmp(kv->key, "userdb") == 0) {
            free(sc->userdb_path);
            sc->userdb_path = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "accept_after") == 0) {
            bad = hp_parse_u64(kv->value, 0, 1000, &sc->accept_after);
        } else if (strcmp(kv->key, "max_auth_tries") == 0) {
            bad = hp_parse_u64(kv->value, 1, 1000, &sc->max_auth_tries);
        } else if (strcmp(kv->key, "auth_fail_delay") == 0) {
            bad = hp_parse_duration_ms(kv->value, &sc->auth_fail_delay_ms) || sc->auth_fail_delay_ms > 60000;
        } else if (strcmp(kv->key, "keyboard_interactive") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            sc->kbdint = b;
        } else if (strcmp(kv->key, "record") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            sc->record = b;
        } else if (strcmp(kv->key, "record_max") == 0) {
            bad = hp_parse_size(kv->value, &sc->record_max);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol ssh)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            return -1;
        }
    }
    return 0;
}

static void sshd_unconfigure(struct hp_service_cfg *svc)
{
    struct ssh_conf *sc = svc->proto_conf;
    if (!sc)
        return;
    if (sc->bind)
        ssh_bind_free(sc->bind);
    hp_userdb_free(sc->userdb);
    free(sc->version);
    free(sc->userdb_path);
    free(sc);
    svc->proto_conf = NULL;
}

/* ---- start-up: host keys and the bind object ------------------------------------ */

/* Load DIR/NAME, or generate it on first start. */
static ssh_key host_key(const char *dir, const char *name, enum ssh_keytypes_e type, int bits,
                        char *err, size_t errlen)
{
    char path[4200];
    ssh_key key = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (access(path, R_OK) == 0) {
        if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) == SSH_OK)
            return key;
        snprintf(err, errlen, "cannot read host key %s", path);
        return NULL;
    }
    if (ssh_pki_generate(type, bits, &key) != SSH_OK ||
        ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) != SSH_OK) {
        snprintf(err, errlen, "cannot generate host key %s", path);
        ssh_key_free(key);
        return NULL;
    }
    chmod(path, 0600);
    hp_info("ssh: generated host key %s", path);
    return key;
}

static int bind_opt(ssh_bind b, enum ssh_bind_options_e opt, const void *v, const char *what, char *err,
                    size_t errlen)
{
    if (ssh_bind_options_set(b, opt, v) == SSH_OK)
        return 0;
    snprintf(err, errlen, "libssh refused %s: %s", what, ssh_get_error(b));
    return -1;
}

static int sshd_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct ssh_conf *sc = svc->proto_conf;
    char dir[4096];
    static const struct { const char *file; enum ssh_keytypes_e type; int bits; } keys[] = {
        { "ssh_host_rsa_key", SSH_KEYTYPE_RSA, 3072 },
        { "ssh_host_ecdsa_key", SSH_KEYTYPE_ECDSA_P256, 256 },
        { "ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0 },
    };

    ssh_init();
    /* libssh's own log (stderr) only when debugging the module. */
    const char *dbg = getenv("HANIPO_LIBSSH_LOG");
    ssh_set_log_level(dbg ? atoi(dbg) : SSH_LOG_NOLOG);
    sc->userdb = hp_userdb_load(sc->userdb_path, err, errlen);
    if (!sc->userdb)
        return -1;
    snprintf(dir, sizeof(dir), "%s/ssh", cfg->data_dir);
    snprintf(sc->ttydir, sizeof(sc->ttydir), "%s/tty", cfg->data_dir);
    snprintf(sc->data_dir, sizeof(sc->data_dir), "%s", cfg->data_dir);   /* sshfile, shell */
    sh_vfs_configure(cfg->shell_persist_ms / 1000, cfg->shell_source_bytes, cfg->shell_total_bytes);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    sc->bind = ssh_bind_new();
    bool no = false;
    if (bind_opt(sc->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no, "process_config", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < HP_ARRAY_LEN(keys); i++) {
        ssh_key k = host_key(dir, keys[i].file, keys[i].type, keys[i].bits, err, errlen);
        if (!k || bind_opt(sc->bind, SSH_BIND_OPTIONS_IMPORT_KEY, k, "host key", err, errlen) != 0)
            return -1;
    }
    const struct ssh_profile *p = sc->profile;
    const char *ver = sc->version ? sc->version : p->version;
    if (bind_opt(sc->bind, SSH_BIND_OPTIONS_BANNER, ver, "version", err, errlen) ||
        bind_opt(sc->bind, SSH_BIND_OPTIONS_KEY_EXCHANGE, p->kex, "kex list", err, errlen) ||
        bind_opt(sc->bind, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, p->hostkeys, "host key list", err, errlen) ||
        bind_opt(sc->bind, SSH_BIND_OPTIONS_CIPHERS_C_S, p->ciphers, "cipher list", err, errlen) ||
        bind_opt(sc->bind, SSH_BIND_OPTIONS_CIPHERS_S_C, p->ciphers, "cipher list", err, errlen) ||
        bind_opt(sc->bind, SSH_BIND_OPTIONS_HMAC_C_S, p->macs, "MAC list", err, errlen) ||
        bind_opt(sc->bind, SSH_BIND_OPTIONS_HMAC_S_C, p->macs, "MAC list", err, errlen))
        return -1;
    return 0;
}

/* ---- events -------------------------------------------------------------------------- */

static void ev_strlist(struct hp_ev *ev, const char *key, const struct hp_namelist *nl)
{
    hp_ev_arr_begin(ev, key);
    size_t start = 0;
    for (size_t i = 0; i <= nl->len; i++) {
        if (i == nl->len || nl->p[i] == ',') {
            if (i > start)
                hp_ev_bytes(ev, NULL, nl->p + start, i - start);
            start = i + 1;
        }
    }
    hp_ev_arr_end(ev);
}

static void emit_client_version(struct ssh_conn *sc)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &sc->c->ctx, "client.version");
    hp_ev_bytes(&ev, "version", sc->hs->cli.version, sc->hs->cli.version_len);
    hp_ev_emit(&ev);
}

static void emit_client_kex(struct ssh_conn *sc)
{
    struct hp_buf algos;
    char md5[33];
    struct ssh_hs *hs = sc->hs;
    const struct hp_kexinit *k = &hs->cli.kex;
    hs->kex_pending = false;
    if (!hs->hassh_server[0])
        memcpy(hs->hassh_server, conf_of(sc->c)->hassh_server, sizeof(hs->hassh_server));
    hp_buf_init(&algos, 64 * 1024);
    hp_hassh(k, false, &algos, md5);
    struct hp_ev ev;
    hp_ev_begin(&ev, &sc->c->ctx, "client.kex");
    hp_ev_str(&ev, "hassh", md5);
    const char *client = hp_fpname(HP_FP_HASSH, md5);   /* data/fingerprints/hassh.tsv */
    hp_ev_str(&ev, "client", client ? client : "unknown");
    hp_ev_bytes(&ev, "hasshAlgorithms", algos.data, algos.len);
    if (hs->hassh_server[0])
        hp_ev_str(&ev, "hasshServer", hs->hassh_server);
    ev_strlist(&ev, "kexAlgs", &k->kex);
    ev_strlist(&ev, "keyAlgs", &k->hostkey);
    ev_strlist(&ev, "encCS", &k->enc_cs);
    ev_strlist(&ev, "macCS", &k->mac_cs);
    ev_strlist(&ev, "compCS", &k->comp_cs);
    ev_strlist(&ev, "langCS", &k->lang_cs);
    hp_ev_emit(&ev);
    hp_buf_free(&algos);
    /* Done with the client's KEXINIT copy (the stream offset is still used by
     * check_next_packet). */
    uint64_t consumed = hs->cli.consumed;
    hp_sshsniff_free(&hs->cli);
    hs->cli.state = HP_SNIFF_DONE;
    hs->cli.consumed = consumed;
}

static bool sniff_over(const struct hp_sshsniff *s)
{
    return s->state == HP_SNIFF_DONE || s->state == HP_SNIFF_FAILED;
}

/* Free the clear-text state once nothing will read it again: both sniffers
 * finished, client.kex emitted, the clear-text packets walked (walk_clear),
 * the packet after the client's KEXINIT checked (or never to be found). */
static void hs_done(struct ssh_conn *sc)
{
    struct ssh_hs *hs = sc->hs;
    if (!hs || !sniff_over(&hs->srv) || !sniff_over(&hs->cli) || hs->kex_pending || !hs->walked ||
        (hs->cli.state == HP_SNIFF_DONE && !hs->next_checked))
        return;
    hp_sshsniff_free(&hs->cli);
    hp_sshsniff_free(&hs->srv);
    free(hs);
    sc->hs = NULL;
}

static void emit_login(struct ssh_conn *sc, bool ok, const char *method, const char *user, const char *pass,
                       size_t plen)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &sc->c->ctx, ok ? "login.success" : "login.failed");
    hp_ev_str(&ev, "username", user);
    hp_ev_bytes(&ev, "password", pass, plen);
    hp_ev_str(&ev, "method", method);
    hp_ev_uint(&ev, "attempt", sc->auth_attempts);
    hp_knowledge_ev_cred(&ev, user, user ? strlen(user) : 0, pass, plen);
    hp_ev_emit(&ev);
}

/* ---- moving bytes ---------------------------------------------------------------------- */

static void sshd_pump(struct ssh_conn *sc);
static void sshd_run_pending(struct ssh_conn *sc);
static void proxy_start(struct ssh_conn *sc);
static bool chan_waiting(const struct ssh_chan *ch);
static void chan_input(struct ssh_chan *ch, const void *data, size_t len);
static void chan_eof(struct ssh_chan *ch);

/* libssh wrote: forward to the client (unless a failed login's answer is being held). */
static void sp_read(struct ssh_conn *sc, evutil_socket_t fd)
{
    uint8_t buf[16384];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
        struct ssh_hs *hs = sc->hs;
        if (hs && !sniff_over(&hs->srv) && (hp_sshsniff_feed(&hs->srv, buf, (size_t)n) & HP_SNIFF_GOT_KEXINIT)) {
            struct ssh_conf *cf = (struct ssh_conf *)conf_of(sc->c);
            hp_hassh(&hs->srv.kex, true, NULL, hs->hassh_server);
            memcpy(cf->hassh_server, hs->hassh_server, sizeof(cf->hassh_server));
            hp_sshsniff_free(&hs->srv);   /* our KEXINIT copy: hashed, no longer needed */
            hs->srv.state = HP_SNIFF_DONE;
            if (hs->kex_pending)
                emit_client_kex(sc);
            hs_done(sc);
        }
        if (hp_conn_send(sc->c, buf, (size_t)n) != 0)
            return;                   /* closing (the client does not read): nothing more to pump */
        if (sc->close_after_flush) {  /* max_auth_tries: this was the last failure's answer */
            hp_conn_close(sc->c, "max_auth_tries");
            return;
        }
        /* Room was made on the socketpair: let libssh write what it still
         * holds (a large output does not fit the socketpair at once, and
         * libssh only flushes when it is polled).  Only once logged in: only
         * channels send that much, and before it every client packet must be
         * judged in the order the failed-login delay imposes. */
        if (sc->kex_done && !sc->dead && sc->sev && sc->user)
            sshd_pump(sc);
        return;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        event_del(sc->ev_sp);
        hp_conn_close(sc->c, sc->close_after_flush ? "max_auth_tries" : "closed");
    }
}

/*
 * A libevent callback of the module's own, outside the core's connection
 * callbacks: hold the connection, or a close in there (hp_conn_send closes a
 * client that does not read) would free it, and sc with it, while this still
 * uses them (a megabyte of short commands whose answers the client did not
 * read crashed the sensor in ssh_event_dopoll on a freed event).
 */
static void sp_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ssh_conn *sc = arg;
    struct hp_conn *c = sc->c;
    (void)what;
    hp_conn_hold(c);
    sp_read(sc, fd);
    hp_conn_release(c);               /* may free c and sc */
}

/* max_auth_tries reached (auth_refused): sshd's words, then libssh is done.
 * The disconnect waits in the socketpair behind the failed-login delay and
 * the connection closes once it is out (close_after_flush).  libssh 0.10
 * only sends reason 11 (by application) where sshd sends 2 (protocol error). */
static void auth_disconnect(struct ssh_conn *sc)
{
    sc->auth_disconnect = false;
    ssh_session_set_disconnect_message(sc->s, "Too many authentication failures");
    ssh_disconnect(sc->s);
    sc->dead = true;
}

/* Let libssh process what is waiting on its end of the socketpair. */
static void sshd_pump(struct ssh_conn *sc)
{
    if (sc->dead)
        return;
    sc->pumping = true;
    for (int i = 0; i < SSH_PUMP_ROUNDS; i++) {
        if (!sc->kex_done) {
            int rc = ssh_handle_key_exchange(sc->s);
            if (rc == SSH_OK) {
                /* From now on the session is driven through an ssh_event; it
                 * must be added only after the key exchange, which polls the
                 * session's own context. */
                sc->kex_done = true;
                sc->sev = ssh_event_new();
                if (!sc->sev || ssh_event_add_session(sc->sev, sc->s) != SSH_OK) {
                    sc->dead = true;
                    break;
                }
                continue;
            }
            if (rc == SSH_ERROR)
                sc->dead = true;
            break;
        }
        int rc = ssh_event_dopoll(sc->sev, 0);
        if (rc == SSH_ERROR || (ssh_get_status(sc->s) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
            sc->dead = true;
        if (rc != SSH_OK || sc->dead)
            break;
    }
    sc->pumping = false;
    if (sc->auth_disconnect)
        auth_disconnect(sc);
    sshd_run_pending(sc);
    if (sc->dead && !(sc->holding && sc->close_after_flush) && !(sc->c->flags & HP_CONN_CLOSING)) {
        /* Whatever libssh wrote last (a disconnect message) still goes out. */
        sp_read_cb(sc->sp, EV_READ, sc);
        hp_conn_close(sc->c, "closed");
    }
}

/* ---- authentication ---------------------------------------------------------------------- */

static void hold_output(struct ssh_conn *sc, uint64_t ms)
{
    if (!ms)
        return;
    sc->holding = true;
    event_del(sc->ev_sp);
    hp_conn_set_timer(sc->c, ms);
}

/* ---- proxy mode ---------------------------------------------------------------------- */

static void proxy_state_cb(void *arg, enum hp_sshproxy_state st)
{
    (void)st;
    sshd_run_pending(arg);            /* waiting channel requests go to the backend or the emulation */
}

/* Logged in on a service with a backend: connect to it while the client
 * opens its channel.  Refused (budget, policy) or failing at once: the
 * emulation serves, and proxy.fallback says why. */
static void proxy_start(struct ssh_conn *sc)
{
    const struct hp_service_cfg *svc = hp_conn_service_cfg(sc->c);
    struct ssh_conf *cf = (struct ssh_conf *)conf_of(sc->c);
    const char *why = NULL;
    if (!svc->backend || sc->px)
        return;
    if (!hp_backend_admit(svc, &sc->c->peer, &why)) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &sc->c->ctx, "proxy.fallback");
        hp_ev_str(&ev, "backend", svc->backend->spec ? svc->backend->spec : "");
        hp_ev_str(&ev, "reason", why ? why : "refused");
        hp_ev_str(&ev, "fallback", "ssh");
        hp_ev_emit(&ev);
        return;
    }
    struct hp_sshproxy_params p = {
        .ctx = &sc->c->ctx,
        .backend = svc->backend,
        .data_dir = cf->data_dir,
        .hostkey_seen = cf->backend_hostkey,
        .hostkey_seen_len = sizeof(cf->backend_hostkey),
        .on_state = proxy_state_cb,
        .arg = sc,
    };
    sc->px = hp_sshproxy_new(&p);
}

static bool proxy_waiting(const struct ssh_conn *sc)
{
    return sc->px && hp_sshproxy_state(sc->px) == HP_SSHPROXY_CONNECTING;
}

static bool proxy_on(const struct ssh_conn *sc)
{
    return sc->px && hp_sshproxy_state(sc->px) != HP_SSHPROXY_FAILED;
}

/* Decide, log and delay one password-like attempt. */
static bool auth_attempt(struct ssh_conn *sc, const char *method, const char *user, const char *pass)
{
    const struct ssh_conf *cf = conf_of(sc->c);
    size_t plen = strlen(pass);
    sc->auth_attempts++;
    bool ok = hp_userdb_check(cf->userdb, user, strlen(user), pass, plen) ||
              (cf->accept_after && sc->auth_attempts >= cf->accept_after);
    emit_login(sc, ok, method, user, pass, plen);
    if (ok) {
        free(sc->user);
        sc->user = hp_xstrdup(user);
        proxy_start(sc);
        return true;
    }
    if (sc->auth_attempts >= cf->max_auth_tries)
        sc->close_after_flush = true;
    hold_output(sc, cf->auth_fail_delay_ms);
    return false;
}

/*
 * A refused attempt's answer: USERAUTH_FAILURE (libssh's default reply, 1),
 * but the attempt that reaches max_auth_tries gets none (0): sshd answers it
 * with a disconnect, "Too many authentication failures", sent by
 * auth_disconnect() once libssh has returned (its own disconnect must not run
 * inside its packet dispatch).  Seen on Debian 12's sshd (OpenSSH_9.2p1
 * Debian-2+deb12u10): six wrong passwords, the sixth answered by that
 * disconnect; libssh's failure then a silent close told it apart.
 */
static int auth_refused(struct ssh_conn *sc)
{
    if (!sc->close_after_flush)
        return 1;
    sc->auth_disconnect = true;
    return 0;
}

/* The message API's accessors for password and key requests are marked
 * deprecated in libssh 0.10, but only the message callback can leave a
 * request unanswered (auth_refused). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int password_message(struct ssh_conn *sc, ssh_message msg)
{
    const char *user = ssh_message_auth_user(msg), *pass = ssh_message_auth_password(msg);
    if (!auth_attempt(sc, "password", user ? user : "", pass ? pass : ""))
        return auth_refused(sc);
    ssh_message_auth_reply_success(msg, 0);
    return 0;
}

static int cb_auth_none(ssh_session s, const char *user, void *ud)
{
    return SSH_AUTH_DENIED;
}

/*
 * Requests that only produce an event (env, pty, public keys, forwards,
 * subsystems) cost the client nothing, so one connection may log at most
 * SSH_REQ_EVENTS_MAX of them; the one past it is reported and the
 * connection closed, so nothing is dropped without a trace.
 */
static bool req_event_ok(struct ssh_conn *sc)
{
    if (++sc->req_events <= SSH_REQ_EVENTS_MAX)
        return true;
    if (sc->req_events == SSH_REQ_EVENTS_MAX + 1) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &sc->c->ctx, "sensor.limit");
        hp_ev_str(&ev, "limit", "ssh_requests");
        hp_ev_uint(&ev, "max", SSH_REQ_EVENTS_MAX);
        hp_ev_emit(&ev);
        hp_conn_close(sc->c, "request_limit");
    }
    return false;
}

static int pubkey_message(struct ssh_conn *sc, ssh_message msg)
{
    const char *user = ssh_message_auth_user(msg);
    ssh_key key = ssh_message_auth_pubkey(msg);
    enum ssh_publickey_state_e state = ssh_message_auth_publickey_state(msg);
    unsigned char *hash = NULL;
    size_t hlen = 0;
    /* Offered keys count towards max_auth_tries, as in sshd. */
    if (++sc->auth_attempts >= conf_of(sc->c)->max_auth_tries)
        sc->close_after_flush = true;
    if (key && req_event_ok(sc) && (state == SSH_PUBLICKEY_STATE_NONE || state == SSH_PUBLICKEY_STATE_VALID) &&
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == SSH_OK) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        struct hp_ev ev;
        hp_ev_begin(&ev, &sc->c->ctx, "client.fingerprint");
        hp_ev_str(&ev, "username", user ? user : "");
        hp_ev_str(&ev, "fingerprint", fp ? fp : "");
        hp_ev_str(&ev, "key_type", ssh_key_type_to_char(ssh_key_type(key)));
        hp_ev_emit(&ev);
        ssh_string_free_char(fp);
        ssh_clean_pubkey_hash(&hash);
    }
    if (sc->c->flags & HP_CONN_CLOSING)
        return 0;                     /* request_limit: nothing more to say */
    return auth_refused(sc);
}
#pragma GCC diagnostic pop

/* keyboard-interactive: one "Password: " prompt, answered like a password. */
static int kbdint_message(struct ssh_conn *sc, ssh_message msg)
{
    if (!ssh_message_auth_kbdint_is_response(msg)) {
        const char *prompts[] = { "Password: " };
        char echo[] = { 0 };
        const char *u = ssh_message_auth_user(msg);
        free(sc->kbd_user);
        sc->kbd_user = hp_xstrdup(u ? u : "");
        ssh_message_auth_interactive_request(msg, "", "", 1, prompts, echo);
        return 0;
    }
    const char *user = sc->kbd_user;
    const char *pass = ssh_userauth_kbdint_getnanswers(sc->s) > 0 ? ssh_userauth_kbdint_getanswer(sc->s, 0) : "";
    if (auth_attempt(sc, "keyboard-interactive", user ? user : "", pass ? pass : "")) {
        ssh_message_auth_reply_success(msg, 0);
    } else if (auth_refused(sc)) {
        ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD |
                                              SSH_AUTH_METHOD_INTERACTIVE);
        ssh_message_reply_default(msg);
    }
    return 0;
}

/* ---- channels ------------------------------------------------------------------------ */

/* Send what the window allows; returns true when nothing is left waiting. */
static bool chan_flush(struct ssh_chan *ch)
{
    while (ch->out.len > 0 && !ch->closed) {
        uint32_t win = ssh_channel_window_size(ch->ch);
        if (win == 0)
            return false;
        size_t n = ch->out.len < win ? ch->out.len : win;
        int w = ssh_channel_write(ch->ch, ch->out.data, (uint32_t)n);
        if (w <= 0)
            return false;
        hp_buf_consume(&ch->out, (size_t)w);
    }
    return true;
}

static void chan_finish(struct ssh_chan *ch)
{
    if (ch->exit_signal[0])
        ssh_channel_request_send_exit_signal(ch->ch, ch->exit_signal, 0, "", "");
    else
        ssh_channel_request_send_exit_status(ch->ch, ch->exit_status);
    ssh_channel_send_eof(ch->ch);
    ssh_channel_close(ch->ch);
    ch->closed = true;
}

/* Flush waiting output, then the exit that waited behind it. */
static void chan_drain(struct ssh_chan *ch)
{
    if (!ch->closed && chan_flush(ch) && ch->exit_pending) {
        ch->exit_pending = false;
        chan_finish(ch);
    }
}

/* Output dropped for clients that do not read: one log line per 10 s for
 * all sessions (a client that never reads made one per command: 39,000
 * lines in 8 s for a megabyte of short commands). */
static struct hp_ratelimit chan_drop_rl;
static uint64_t chan_dropped;

static void chan_output(struct ssh_chan *ch, const void *data, size_t len)
{
    if (ch->closed || !len)
        return;
    if (!hp_buf_put(&ch->out, data, len)) {
        chan_dropped += len;
        uint64_t k = hp_ratelimit_ok(&chan_drop_rl, 10000);
        if (k) {
            hp_log(HP_LOG_WARN, "ssh: %s: client does not read; output dropped (%llu bytes in %llu writes"
                   " since the last report)", ch->sc->c->ctx.session, (unsigned long long)chan_dropped,
                   (unsigned long long)k);
            chan_dropped = 0;
        }
        ch->out.full = false;
    }
    chan_drain(ch);
}

static void term_write(void *io, const void *data, size_t len)
{
    struct ssh_chan *ch = io;
    if (ch->closed || !len)
        return;
    if (ch->tty)
        hp_ttylog_write(ch->tty, 'o', data, len);
    chan_output(ch, data, len);
}

/* stderr of a command run without a pty: extended data, as sshd sends it.
 * Behind stdout still waiting for window, or when the window is short, the
 * rest joins the stdout queue instead (order kept; error texts are short). */
static void term_write_err(void *io, const void *data, size_t len)
{
    struct ssh_chan *ch = io;
    if (ch->closed || !len)
        return;
    int w = 0;
    if (ch->out.len == 0 && len <= UINT32_MAX && ssh_channel_window_size(ch->ch) >= len)
        w = ssh_channel_write_stderr(ch->ch, data, (uint32_t)len);
    if (w < 0)
        w = 0;
    if ((size_t)w < len)
        chan_output(ch, (const uint8_t *)data + w, len - (size_t)w);
}

static void term_exit(void *io, int status)
{
    struct ssh_chan *ch = io;
    if (ch->closed || ch->exit_pending)
        return;
    ch->exit_status = status;
    ch->exit_pending = true;
    chan_drain(ch);
}

static void chan_start_shell(struct ssh_chan *ch, bool interactive)
{
    struct ssh_conn *sc = ch->sc;
    const struct ssh_conf *cf = conf_of(sc->c);
    struct hp_shell_params p = {
        .ctx = &sc->c->ctx,
        .username = sc->user ? sc->user : "root",
        .hostname = NULL,             /* the personality's */
        .interactive = interactive,
        .width = ch->width ? ch->width : 80,
        .height = ch->height ? ch->height : 24,
        .term = { term_write, term_exit, ch, ch->pty ? NULL : term_write_err },
        .term_type = ch->pty ? ch->term : NULL,
        .pty = ch->pty,
        .personality = cf->personality,
        .data_dir = cf->data_dir,
    };
    if (interactive && cf->record && !ch->tty) {
        ch->tty = hp_ttylog_open(cf->ttydir, sc->c->ctx.session, p.width, p.height, ch->term, cf->record_max);
        ch->tty_start_ms = hp_mono_ms();
    }
    ch->shell = hp_shell_new(&p);
}

/* ---- sshfile: scp / sftp ----------------------------------------------------------- */

static void file_write(void *io, const void *data, size_t len)
{
    chan_output(io, data, len);   /* as the shell's: within the client's window */
}

/* An scp exec command (cmd) or the sftp subsystem (cmd NULL); NULL if cmd is not scp -t/-f. */
static struct hp_sshfile *chan_new_file(struct ssh_chan *ch, const char *cmd)
{
    struct ssh_conn *sc = ch->sc;
    struct hp_sshfile_params p = {
        .ctx = &sc->c->ctx,
        .data_dir = conf_of(sc->c)->data_dir,
        .username = sc->user ? sc->user : "root",
        .write = file_write,
        .exit = term_exit,
        .io = ch,
    };
    return cmd ? hp_scp_sink_new(&p, cmd) : hp_sftp_new(&p);
}

/* ---- proxy mode: a channel relayed to the backend ------------------------------------ */

#define SSH_PX_PAUSE_AT  (1u << 20)   /* client output queued: stop reading the backend */
#define SSH_PX_RESUME_AT (256u << 10)  /* ... until every channel is below this */

static void px_write(void *io, const void *data, size_t len, bool is_stderr)
{
    struct ssh_chan *ch = io;
    if (is_stderr)
        term_write_err(ch, data, len);
    else
        term_write(ch, data, len);
    if (ch->out.len > SSH_PX_PAUSE_AT)
        hp_sshproxy_pause(ch->sc->px, true);
}

/* The backend caught up with an upload: take what libssh held back, in
 * order, until the backend is behind again; then the EOF that waited. */
static void chan_pull(struct ssh_chan *ch)
{
    struct ssh_conn *sc = ch->sc;
    uint8_t buf[32768];
    ch->pull = false;
    ch->throttled = false;
    sc->pumping = true;               /* libssh may dispatch callbacks in there */
    while (ch->pc && !ch->closed) {
        if (hp_sshproxy_chan_backlog(ch->pc) >= SSH_PX_IN_HIGH) {
            ch->throttled = true;
            break;
        }
        int n = ssh_channel_read_nonblocking(ch->ch, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        chan_input(ch, buf, (size_t)n);
    }
    sc->pumping = false;
    if (!ch->throttled && ch->eof_after_pull) {
        ch->eof_after_pull = false;
        chan_eof(ch);
    }
}

/* Pulling reads libssh's server session, which may run any of our
 * callbacks (one may close the connection): so it is done from the
 * module timer, inside a core callback, never from the backend's events. */
static void px_drained(void *io)
{
    struct ssh_chan *ch = io;
    if (!ch->throttled || ch->pull)
        return;
    ch->pull = true;
    hp_conn_set_timer(ch->sc->c, 1);
}

/* The client caught up (window adjusts arrived): read the backend again. */
static void px_maybe_resume(struct ssh_conn *sc)
{
    if (!hp_sshproxy_paused(sc->px))
        return;
    for (int i = 0; i < SSH_MAX_CHANNELS; i++)
        if (sc->chans[i] && !sc->chans[i]->closed && sc->chans[i]->out.len > SSH_PX_RESUME_AT)
            return;
    hp_sshproxy_pause(sc->px, false);
}

static void px_exit(void *io, int status, const char *sig)
{
    struct ssh_chan *ch = io;
    if (sig)
        snprintf(ch->exit_signal, sizeof(ch->exit_signal), "%s", sig);
    if (ch->sc->pumping) {            /* inside libssh's dispatch: run_pending ends it */
        ch->exit_status = status;
        ch->exit_pending = true;
        return;
    }
    term_exit(ch, status);
}

static void chan_start_proxy(struct ssh_chan *ch)
{
    struct ssh_conn *sc = ch->sc;
    const struct ssh_conf *cf = conf_of(sc->c);
    struct hp_sshproxy_chan_params p = {
        .kind = ch->pending_sftp ? HP_SSHPROXY_SFTP : ch->pending_exec ? HP_SSHPROXY_EXEC : HP_SSHPROXY_SHELL,
        .command = ch->pending_exec,
        .pty = ch->pty,
        .term = ch->term,
        .width = ch->width,
        .height = ch->height,
        .username = sc->user,
        .write = px_write,
        .exit = px_exit,
        .drained = px_drained,
        .io = ch,
    };
    if (p.kind == HP_SSHPROXY_SHELL && ch->pty && cf->record && !ch->tty) {
        ch->tty = hp_ttylog_open(cf->ttydir, sc->c->ctx.session, ch->width ? ch->width : 80,
                                 ch->height ? ch->height : 24, ch->term, cf->record_max);
        ch->tty_start_ms = hp_mono_ms();
    }
    ch->pc = hp_sshproxy_chan_new(sc->px, &p);
    ch->pending_shell = ch->pending_sftp = false;
    free(ch->pending_exec);
    ch->pending_exec = NULL;
    if (!ch->pc)
        term_exit(ch, 255);
}

/* The backend failed: requests that waited for it get what the emulation gives. */
static void chan_fallback(struct ssh_chan *ch)
{
    if (ch->pending_sftp) {
        ch->pending_sftp = false;
        ch->file = chan_new_file(ch, NULL);
        ch->pending_file = true;
    } else if (ch->pending_exec && (ch->file = chan_new_file(ch, ch->pending_exec)) != NULL) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &ch->sc->c->ctx, "command.input");
        hp_ev_bytes(&ev, "input", ch->pending_exec, strlen(ch->pending_exec));
        hp_ev_emit(&ev);
        free(ch->pending_exec);
        ch->pending_exec = NULL;
        ch->pending_file = true;
    }
}

/* Input and EOF that arrived before the channel was started. */
static void chan_replay_early(struct ssh_chan *ch)
{
    if (ch->early.len) {
        struct hp_buf b = ch->early;
        hp_buf_init(&ch->early, SSH_EARLY_MAX);
        chan_input(ch, b.data, b.len);
        hp_buf_free(&b);
    }
    if (ch->early_eof) {
        ch->early_eof = false;
        chan_eof(ch);
    }
}

static void sshd_run_pending(struct ssh_conn *sc)
{
    for (int i = 0; i < SSH_MAX_CHANNELS; i++) {
        struct ssh_chan *ch = sc->chans[i];
        if (!ch)
            continue;
        if (ch->out.len || ch->exit_pending)
            chan_drain(ch);               /* the client may have opened its window */
        bool waiting = chan_waiting(ch);
        if (waiting && ch->closed) {      /* the client gave up before the backend answered */
            ch->pending_shell = ch->pending_sftp = false;
            free(ch->pending_exec);
            ch->pending_exec = NULL;
            continue;
        }
        if (waiting && proxy_waiting(sc))
            continue;                     /* proxy_state_cb brings us back */
        if (waiting && !ch->closed && proxy_on(sc)) {
            chan_start_proxy(ch);
            chan_replay_early(ch);
            continue;
        }
        if (waiting)
            chan_fallback(ch);
        if (ch->pending_file) {           /* sshfile: the request has been answered */
            ch->pending_file = false;
            hp_sshfile_start(ch->file);
        }
        if (ch->pending_shell) {
            ch->pending_shell = false;
            chan_start_shell(ch, ch->pty);
            hp_shell_start(ch->shell);
        }
        if (ch->pending_exec) {
            char *cmd = ch->pending_exec;
            ch->pending_exec = NULL;
            chan_start_shell(ch, false);
            hp_shell_exec(ch->shell, cmd, strlen(cmd));
            free(cmd);
        }
        if (waiting)
            chan_replay_early(ch);
    }
    px_maybe_resume(sc);
}

static void log_closed(struct ssh_chan *ch)
{
    char *path = NULL;
    uint64_t size = hp_ttylog_close(ch->tty, &path);
    struct hp_ev ev;
    hp_ev_begin(&ev, &ch->sc->c->ctx, "log.closed");
    hp_ev_str(&ev, "ttylog", path ? path : "");
    hp_ev_uint(&ev, "size", size);
    hp_ev_double(&ev, "duration", (double)(hp_mono_ms() - ch->tty_start_ms) / 1000.0);
    hp_ev_emit(&ev);
    free(path);
    ch->tty = NULL;
}

static void chan_free(struct ssh_chan *ch)
{
    if (ch->shell)
        hp_shell_free(ch->shell);
    hp_sshfile_free(ch->file);        /* sshfile: stores files left open */
    hp_sshproxy_chan_free(ch->pc);
    hp_buf_free(&ch->early);
    if (ch->tty)
        log_closed(ch);
    free(ch->pending_exec);
    free(ch->dest_host);
    hp_buf_free(&ch->out);
    free(ch);
}

static bool chan_waiting(const struct ssh_chan *ch)
{
    return !ch->pc && !ch->shell && !ch->file && (ch->pending_shell || ch->pending_exec || ch->pending_sftp);
}

static void chan_input(struct ssh_chan *ch, const void *data, size_t len)
{
    if (chan_waiting(ch)) {           /* proxy mode: the backend is still connecting */
        if (!hp_buf_put(&ch->early, data, len))
            ch->early.full = false;   /* a client that floods before its shell starts loses the excess */
        return;
    }
    if (ch->file) {                   /* sshfile */
        hp_sshfile_input(ch->file, data, len);
        return;
    }
    if (ch->tty)
        hp_ttylog_write(ch->tty, 'i', data, len);
    if (ch->pc)
        hp_sshproxy_chan_input(ch->pc, data, len);
    if (ch->shell)
        hp_shell_input(ch->shell, data, len);
}

static void chan_eof(struct ssh_chan *ch)
{
    if (chan_waiting(ch)) {
        ch->early_eof = true;
        return;
    }
    if (ch->shell)
        hp_shell_eof(ch->shell);
    hp_sshfile_eof(ch->file);         /* sshfile */
    hp_sshproxy_chan_eof(ch->pc);
}

static int cb_chan_data(ssh_session s, ssh_channel c, void *data, uint32_t len, int is_stderr, void *ud)
{
    struct ssh_chan *ch = ud;
    if (ch->pc && (ch->throttled || hp_sshproxy_chan_backlog(ch->pc) >= SSH_PX_IN_HIGH)) {
        ch->throttled = true;         /* libssh keeps it; px_drained pulls it */
        return 0;
    }
    if (ch->forward) {
        size_t take = len;
        if (ch->fwd_logged < SSH_FWD_DATA_MAX) {
            if (take > SSH_FWD_DATA_MAX - ch->fwd_logged)
                take = SSH_FWD_DATA_MAX - ch->fwd_logged;
            struct hp_ev ev;
            hp_ev_begin(&ev, &ch->sc->c->ctx, "direct-tcpip.data");
            hp_ev_str(&ev, "dest_host", ch->dest_host);
            hp_ev_int(&ev, "dest_port", ch->dest_port);
            hp_ev_bytes(&ev, "data", data, take);
            hp_ev_emit(&ev);
            ch->fwd_logged += take;
        }
        return (int)len;              /* swallowed: nothing is ever relayed */
    }
    chan_input(ch, data, len);
    return (int)len;
}

static void cb_chan_eof(ssh_session s, ssh_channel c, void *ud)
{
    struct ssh_chan *ch = ud;
    if (ch->throttled) {
        ch->eof_after_pull = true;    /* data still in libssh's buffer goes first */
        return;
    }
    chan_eof(ch);
}

static void cb_chan_close(ssh_session s, ssh_channel c, void *ud)
{
    struct ssh_chan *ch = ud;
    hp_sshproxy_chan_eof(ch->pc);     /* the backend's program sees its input end; freed with ch */
    if (!ch->closed) {
        ssh_channel_close(ch->ch);
        ch->closed = true;
    }
}

static int cb_pty(ssh_session s, ssh_channel c, const char *term, int w, int h, int pw, int ph, void *ud)
{
    struct ssh_chan *ch = ud;
    ch->pty = true;
    snprintf(ch->term, sizeof(ch->term), "%s", term ? term : "");
    ch->width = w > 0 && w < 10000 ? (unsigned)w : 80;
    ch->height = h > 0 && h < 10000 ? (unsigned)h : 24;
    if (!req_event_ok(ch->sc))
        return -1;
    struct hp_ev ev;
    hp_ev_begin(&ev, &ch->sc->c->ctx, "client.size");
    hp_ev_uint(&ev, "width", ch->width);
    hp_ev_uint(&ev, "height", ch->height);
    hp_ev_str(&ev, "term", ch->term);
    hp_ev_emit(&ev);
    return 0;
}

static int cb_window(ssh_session s, ssh_channel c, int w, int h, int pw, int ph, void *ud)
{
    struct ssh_chan *ch = ud;
    ch->width = w > 0 && w < 10000 ? (unsigned)w : ch->width;
    ch->height = h > 0 && h < 10000 ? (unsigned)h : ch->height;
    if (ch->shell)
        hp_shell_resize(ch->shell, ch->width, ch->height);
    hp_sshproxy_chan_resize(ch->pc, ch->width, ch->height);
    if (ch->tty)
        hp_ttylog_resize(ch->tty, ch->width, ch->height);
    return 0;
}

static int cb_env(ssh_session s, ssh_channel c, const char *name, const char *value, void *ud)
{
    struct ssh_chan *ch = ud;
    if (!req_event_ok(ch->sc))
        return -1;
    struct hp_ev ev;
    hp_ev_begin(&ev, &ch->sc->c->ctx, "client.var");
    hp_ev_str(&ev, "name", name);
    hp_ev_str(&ev, "value", value);
    hp_ev_emit(&ev);
    /* Debian's sshd_config: AcceptEnv LANG LC_* - everything else is refused. */
    return (strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0) ? 0 : -1;
}

static int cb_shell(ssh_session s, ssh_channel c, void *ud)
{
    struct ssh_chan *ch = ud;
    if (ch->shell || ch->pending_exec || ch->file || ch->pc || ch->pending_sftp)
        return -1;
    ch->pending_shell = true;
    return 0;
}

static int cb_exec(ssh_session s, ssh_channel c, const char *command, void *ud)
{
    struct ssh_chan *ch = ud;
    if (ch->shell || ch->pending_exec || ch->pending_shell || ch->file || ch->pc || ch->pending_sftp)
        return -1;
    if (proxy_on(ch->sc)) {           /* the backend runs it, scp included (run_pending) */
        ch->pending_exec = hp_xstrdup(command);
        return 0;
    }
    /* sshfile: "scp -t DIR" / "scp -f FILE" get the SCP emulation, not the shell;
     * the command is logged as the shell would log it. */
    if ((ch->file = chan_new_file(ch, command)) != NULL) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &ch->sc->c->ctx, "command.input");
        hp_ev_bytes(&ev, "input", command, strlen(command));
        hp_ev_emit(&ev);
        ch->pending_file = true;
        return 0;
    }
    ch->pending_exec = hp_xstrdup(command);
    return 0;
}

static int cb_subsystem(ssh_session s, ssh_channel c, const char *subsystem, void *ud)
{
    struct ssh_chan *ch = ud;
    if (!req_event_ok(ch->sc))
        return -1;
    struct hp_ev ev;
    hp_ev_begin(&ev, &ch->sc->c->ctx, "client.subsystem");
    hp_ev_str(&ev, "subsystem", subsystem);
    hp_ev_emit(&ev);
    /* sshfile: the sftp subsystem gets the SFTP server; anything else is refused. */
    if (strcmp(subsystem, "sftp") != 0 || ch->shell || ch->pending_exec || ch->pending_shell || ch->file ||
        ch->pc || ch->pending_sftp)
        return -1;
    if (proxy_on(ch->sc)) {
        ch->pending_sftp = true;
        return 0;
    }
    ch->file = chan_new_file(ch, NULL);
    ch->pending_file = true;
    return 0;
}

static struct ssh_chan *chan_add(struct ssh_conn *sc, ssh_channel c)
{
    for (int i = 0; i < SSH_MAX_CHANNELS; i++) {
        if (sc->chans[i] && sc->chans[i]->closed && !sc->chans[i]->shell) {
            chan_free(sc->chans[i]);
            sc->chans[i] = NULL;
        }
        if (!sc->chans[i]) {
            struct ssh_chan *ch = hp_xcalloc(1, sizeof(*ch));
            hp_buf_init(&ch->out, SSH_CHAN_OUT_MAX);
            hp_buf_init(&ch->early, SSH_EARLY_MAX);
            ch->sc = sc;
            ch->ch = c;
            ch->cb.userdata = ch;
            ch->cb.channel_data_function = cb_chan_data;
            ch->cb.channel_eof_function = cb_chan_eof;
            ch->cb.channel_close_function = cb_chan_close;
            ch->cb.channel_pty_request_function = cb_pty;
            ch->cb.channel_pty_window_change_function = cb_window;
            ch->cb.channel_env_request_function = cb_env;
            ch->cb.channel_shell_request_function = cb_shell;
            ch->cb.channel_exec_request_function = cb_exec;
            ch->cb.channel_subsystem_request_function = cb_subsystem;
            ssh_callbacks_init(&ch->cb);
            ssh_set_channel_callbacks(c, &ch->cb);
            sc->chans[i] = ch;
            return ch;
        }
    }
    return NULL;
}

static ssh_channel cb_channel_open(ssh_session s, void *ud)
{
    struct ssh_conn *sc = ud;
    if (!sc->user)
        return NULL;
    ssh_channel c = ssh_channel_new(s);
    if (c && !chan_add(sc, c)) {
        ssh_channel_free(c);
        return NULL;
    }
    return c;
}

/* direct-tcpip: log the target and the first data, never connect anywhere. */
static int forward_message(struct ssh_conn *sc, ssh_message msg)
{
    const char *host = ssh_message_channel_request_open_destination(msg);
    int port = ssh_message_channel_request_open_destination_port(msg);
    if (!req_event_ok(sc))
        return 1;
    struct hp_ev ev;
    hp_ev_begin(&ev, &sc->c->ctx, "direct-tcpip.request");
    hp_ev_str(&ev, "dest_host", host ? host : "");
    hp_ev_int(&ev, "dest_port", port);
    hp_ev_str(&ev, "orig_host", ssh_message_channel_request_open_originator(msg));
    hp_ev_int(&ev, "orig_port", ssh_message_channel_request_open_originator_port(msg));
    hp_ev_emit(&ev);
    if (!sc->user)
        return 1;
    ssh_channel c = ssh_channel_new(sc->s);
    struct ssh_chan *ch = c ? chan_add(sc, c) : NULL;
    if (!ch || ssh_message_channel_request_open_reply_accept_channel(msg, c) != SSH_OK) {
        if (c && !ch)
            ssh_channel_free(c);
        return 1;
    }
    ch->forward = true;
    ch->dest_host = hp_xstrdup(host ? host : "");
    ch->dest_port = port;
    return 0;
}

static int cb_message(ssh_session s, ssh_message msg, void *ud)
{
    struct ssh_conn *sc = ud;
    int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
    if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_INTERACTIVE && conf_of(sc->c)->kbdint)
        return kbdint_message(sc, msg);
    if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_PASSWORD)
        return password_message(sc, msg);
    if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_PUBLICKEY)
        return pubkey_message(sc, msg);
    if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP)
        return forward_message(sc, msg);
    if (type == SSH_REQUEST_GLOBAL && sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD && req_event_ok(sc)) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &sc->c->ctx, "tcpip-forward.request");
        hp_ev_str(&ev, "bind_host", ssh_message_global_request_address(msg));
        hp_ev_int(&ev, "bind_port", ssh_message_global_request_port(msg));
        hp_ev_emit(&ev);
    }
    return 1;                         /* libssh sends the default (refusing) reply */
}

/* ---- connection life ------------------------------------------------------------------ */

static void sshd_accept(struct hp_conn *c)
{
    const struct ssh_conf *cf = conf_of(c);
    struct ssh_conn *sc = c->pstate;
    int sp[2];
    sc->c = c;
    sc->sp = -1;
    sc->hs = hp_xcalloc(1, sizeof(*sc->hs));
    hp_sshsniff_init(&sc->hs->cli);
    hp_sshsniff_init(&sc->hs->srv);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0) {
        hp_conn_close(c, "resource_error");
        return;
    }
    sc->sp = sp[0];
    sc->s = ssh_new();
    if (!sc->s || ssh_bind_accept_fd(cf->bind, sc->s, sp[1]) != SSH_OK) {
        close(sp[1]);
        hp_conn_close(c, "resource_error");
        return;
    }
    ssh_set_blocking(sc->s, 0);
    sc->scb.userdata = sc;
    sc->scb.auth_none_function = cb_auth_none;   /* password, publickey: cb_message */
    sc->scb.channel_open_request_session_function = cb_channel_open;
    ssh_callbacks_init(&sc->scb);
    ssh_set_server_callbacks(sc->s, &sc->scb);
    ssh_set_message_callback(sc->s, cb_message, sc);
    ssh_set_auth_methods(sc->s, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY |
                                    (cf->kbdint ? SSH_AUTH_METHOD_INTERACTIVE : 0));
    sc->ev_sp = event_new(hp_sensor.base, sc->sp, EV_READ | EV_PERSIST, sp_read_cb, sc);
    event_add(sc->ev_sp, NULL);
    sshd_pump(sc);                     /* libssh sends its identification line */
}

/*
 * The first plain-text packet after the client's KEXINIT.  sshd refuses a
 * DH group-exchange request outside 2048..8192 bits by closing at once;
 * libssh would instead wait silently, which scanners (ssh-audit) notice.
 */
static void check_next_packet(struct ssh_conn *sc, const uint8_t *p, size_t n)
{
    struct ssh_hs *hs = sc->hs;
    uint64_t start = hs->cli.consumed;        /* stream offset of that packet */
    uint64_t at = hs->cli_sent;               /* stream offset of p */
    if (hs->next_checked || hs->cli.state != HP_SNIFF_DONE || at + n <= start)
        return;
    size_t skip = at < start ? (size_t)(start - at) : 0;
    size_t take = n - skip;
    if (take > sizeof(hs->next_pkt) - hs->next_len)
        take = sizeof(hs->next_pkt) - hs->next_len;
    memcpy(hs->next_pkt + hs->next_len, p + skip, take);
    hs->next_len += take;
    if (hs->next_len < 18)
        return;
    hs->next_checked = true;
    struct hp_rd rd;
    hp_rd_init(&rd, hs->next_pkt, hs->next_len);
    hp_rd_skip(&rd, 5);                       /* packet_length, padding_length */
    if (hp_rd_u8(&rd) != 34)                  /* SSH_MSG_KEX_DH_GEX_REQUEST */
        return;
    uint32_t min = hp_rd_u32be(&rd), want = hp_rd_u32be(&rd), max = hp_rd_u32be(&rd);
    if (min < 2048 || max > 8192 || want < min || want > max)
        hp_conn_close(sc->c, "kex_failed");
}

/* sshd's packet_disconnect in the clear: SSH_MSG_DISCONNECT, reason 2
 * (protocol error), zero padding to a multiple of 8 (at least 4 bytes). */
static void refuse_packet_type(struct ssh_conn *sc, uint8_t type)
{
    char text[40];
    static const uint8_t zeros[16];
    struct hp_buf b;
    int tl = snprintf(text, sizeof(text), "Invalid ssh2 packet type: %u", type);
    size_t payload = 1 + 4 + 4 + (size_t)tl + 4, pad = 8 - (5 + payload) % 8;
    if (pad < 4)
        pad += 8;
    hp_buf_init(&b, 128);
    hp_buf_put_u32be(&b, (uint32_t)(1 + payload + pad));
    hp_buf_putc(&b, (uint8_t)pad);
    hp_buf_putc(&b, 1);                       /* SSH_MSG_DISCONNECT */
    hp_buf_put_u32be(&b, 2);                  /* SSH2_DISCONNECT_PROTOCOL_ERROR */
    hp_buf_put_u32be(&b, (uint32_t)tl);
    hp_buf_put(&b, text, (size_t)tl);
    hp_buf_put_u32be(&b, 0);                  /* language tag */
    hp_buf_put(&b, zeros, pad);
    /* after what libssh has written (our KEXINIT), as sshd sends it first */
    uint8_t out[4096];
    ssize_t got;
    while ((got = recv(sc->sp, out, sizeof(out), MSG_DONTWAIT)) > 0)
        hp_conn_send(sc->c, out, (size_t)got);
    hp_conn_send(sc->c, b.data, b.len);
    hp_buf_free(&b);
    hp_conn_close(sc->c, "ssh_bad_packet");
}

/*
 * The client's clear-text packets, walked from its identification line to
 * its first key-exchange packet (a KEX_ECDH_INIT / KEXDH_INIT / GEX request
 * or an early NEWKEYS: past it our NEWKEYS may be out and the stream
 * encrypted).  sshd refuses a packet of type 0 or 192..255 (SSH's "local"
 * range) with a clear-text disconnect, reason 2, "Invalid ssh2 packet type:
 * N", and closes; libssh would answer UNIMPLEMENTED and wait.  Seen on
 * Debian 12's sshd (OpenSSH_9.2p1 Debian-2+deb12u10), before and after the
 * client's KEXINIT; its padding is zeros, as OpenSSH pads clear packets.
 * Returns how many of p[0..n) may go to libssh: a packet whose header (or,
 * when refused, whose whole) is not in yet waits in the input buffer.
 */
static size_t walk_clear(struct ssh_conn *sc, const uint8_t *p, size_t n)
{
    struct ssh_hs *hs = sc->hs;
    while (!hs->walked && hs->walk_at < hs->cli_sent + n) {
        size_t off = (size_t)(hs->walk_at - hs->cli_sent);
        struct hp_rd r;
        hp_rd_init(&r, p + off, n - off);
        uint32_t len = hp_rd_u32be(&r);
        hp_rd_skip(&r, 1);                    /* padding_length */
        uint8_t type = hp_rd_u8(&r);
        if (!hp_rd_ok(&r))
            return off;                       /* header incomplete */
        if (len < 2 || len > HP_SSH_PACKET_MAX) {
            hs->walked = true;                /* libssh judges the framing */
            break;
        }
        if (type == 0 || type >= 192) {
            if (n - off < 4 + (size_t)len)
                return off;                   /* sshd reads the whole packet first */
            refuse_packet_type(sc, type);
            return 0;
        }
        if (type == 21 || (type >= 30 && type <= 49))
            hs->walked = true;
        hs->walk_at += 4 + (uint64_t)len;
    }
    return n;
}

/* The client's identification line (up to its '\n') refused: logged as its
 * client.version when it is one ("SSH-1.5-x", "SSH-2.0"; junk is only
 * counted in session.closed), sshd's message sent, the connection closed. */
static void refuse_ident(struct ssh_conn *sc, const uint8_t *line, size_t n, const char *msg, const char *reason)
{
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (n >= 4 && memcmp(line, "SSH-", 4) == 0) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &sc->c->ctx, "client.version");
        hp_ev_bytes(&ev, "version", line, n < HP_SSH_VERSION_MAX ? n : HP_SSH_VERSION_MAX);
        hp_ev_emit(&ev);
    }
    /* our identification line first, as sshd sends it before it reads the
     * client's: libssh wrote it at accept, it may still be in the socketpair */
    uint8_t banner[512];
    ssize_t got = recv(sc->sp, banner, sizeof(banner), MSG_DONTWAIT);
    if (got > 0)
        hp_conn_send(sc->c, banner, (size_t)got);
    hp_conn_send(sc->c, msg, strlen(msg));
    hp_conn_close(sc->c, reason);
}

/*
 * Client bytes go to libssh.  Until the client's identification line is
 * complete, only up to its end is handed over and libssh is run, so our
 * KEXINIT is written before libssh sees (and may reject) the client's: sshd
 * always sends its KEXINIT first, and scanners read the lists from it.
 */
static void sshd_data(struct hp_conn *c, struct hp_rd *in)
{
    struct ssh_conn *sc = c->pstate;
    if (sc->sp < 0)
        return;
    /* sshd's LoginGraceTime: a client still not logged in after 120 s is
     * dropped, even if it keeps talking (silent ones meet idle_timeout). */
    if (!sc->user && hp_mono_ms() - c->start_mono_ms > SSH_LOGIN_GRACE_MS) {
        hp_conn_close(c, "login_grace");
        return;
    }
    while (hp_rd_left(in) > 0) {
        size_t n = hp_rd_left(in);
        const uint8_t *p = hp_rd_ptr(in);
        struct ssh_hs *hs = sc->hs;
        if (hs && hs->cli.state == HP_SNIFF_VERSION) {
            /* The identification line is handed over whole, once it is
             * judged; until its '\n' arrives it stays in the input buffer,
             * unless a byte sshd refuses at once comes first (a TLS hello). */
            const char *why, *msg;
            size_t len;
            enum hp_ssh_ident st = hp_ssh_ident_scan(p, n, &len);
            if (st == HP_SSH_IDENT_MORE)
                break;
            n = len;
            msg = hp_ssh_ident_refusal(p, st == HP_SSH_IDENT_LINE ? n : 0, &why);  /* 0: invalid */
            if (msg) {
                refuse_ident(sc, p, n, msg, why);
                return;
            }
            hs->walk_at = hs->cli_sent + n;   /* the first packet follows the line */
        } else if (hs && !hs->walked) {
            n = walk_clear(sc, p, n);
            if (c->flags & HP_CONN_CLOSING)
                return;
            if (n == 0)
                break;                        /* a packet header still to come */
        }
        ssize_t w = send(sc->sp, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            break;                    /* libssh is behind: the rest stays buffered */
        if (hs) {
            if (!sniff_over(&hs->cli)) {
                /* Only what was handed over: the rest comes back with the next call. */
                int got = hp_sshsniff_feed(&hs->cli, p, (size_t)w);
                if (got & HP_SNIFF_GOT_VERSION)
                    emit_client_version(sc);
                if (got & HP_SNIFF_GOT_KEXINIT) {
                    hs->kex_pending = true;
                    if (hs->hassh_server[0] || conf_of(c)->hassh_server[0])
                        emit_client_kex(sc);
                }
            }
            check_next_packet(sc, p, (size_t)w);
            hs->cli_sent += (uint64_t)w;
            hs_done(sc);
        }
        hp_rd_skip(in, (size_t)w);
        if (c->flags & HP_CONN_CLOSING)
            return;
        sshd_pump(sc);
        if (c->flags & HP_CONN_CLOSING)
            return;
    }
}

static void sshd_timer(struct hp_conn *c)
{
    struct ssh_conn *sc = c->pstate;
    if (sc->holding) {                /* the failed-login delay is over */
        sc->holding = false;
        event_add(sc->ev_sp, NULL);
        sp_read_cb(sc->sp, EV_READ, sc);
    }
    bool pulled = false;              /* proxy mode: the backend caught up with an upload */
    for (int i = 0; i < SSH_MAX_CHANNELS && !(c->flags & HP_CONN_CLOSING); i++) {
        if (sc->chans[i] && sc->chans[i]->pull) {
            chan_pull(sc->chans[i]);
            pulled = true;
        }
    }
    if (pulled && !(c->flags & HP_CONN_CLOSING))
        sshd_pump(sc);                /* window adjusts out, anything read meanwhile handled */
}

static void sshd_eof(struct hp_conn *c)
{
    hp_conn_close(c, "eof");
}

static void sshd_close(struct hp_conn *c)
{
    struct ssh_conn *sc = c->pstate;
    if (sc->hs && sc->hs->kex_pending)
        emit_client_kex(sc);
    for (int i = 0; i < SSH_MAX_CHANNELS; i++)
        if (sc->chans[i])
            chan_free(sc->chans[i]);
    hp_sshproxy_free(sc->px);
    if (sc->ev_sp)
        event_free(sc->ev_sp);
    if (sc->sev) {
        ssh_event_remove_session(sc->sev, sc->s);
        ssh_event_free(sc->sev);
    }
    if (sc->s)
        ssh_free(sc->s);              /* closes libssh's end of the socketpair */
    if (sc->sp >= 0)
        close(sc->sp);
    if (sc->hs) {
        hp_sshsniff_free(&sc->hs->cli);
        hp_sshsniff_free(&sc->hs->srv);
        free(sc->hs);
    }
    free(sc->kbd_user);
    free(sc->user);
}

const struct hp_proto hp_proto_ssh = {
    .name = "ssh",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "2222",
    .conn_state_size = sizeof(struct ssh_conn),
    .default_max_input = 100ull << 20,   /* uploads: up to 64 MiB per channel (sshfile) */
    .own_backend = true,                 /* proxy mode: sshproxy.c, after our own login */
    .configure = sshd_configure,
    .unconfigure = sshd_unconfigure,
    .start = sshd_start,
    .on_accept = sshd_accept,
    .on_data = sshd_data,
    .on_eof = sshd_eof,
    .on_timer = sshd_timer,
    .on_close = sshd_close,
};
