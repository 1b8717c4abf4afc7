/*
 * redis.c - a Redis server, far enough for the attacks Redis gets.
 *
 * Exposed Redis instances are hit by a short list of moves: INFO to learn
 * the version, AUTH brute force, the "cron / authorized_keys write"
 * (CONFIG SET dir + dbfilename, SET a value with newlines around a cron
 * line or an SSH key, SAVE), the rogue-master module load (SLAVEOF to the
 * attacker's server, MODULE LOAD of the received .so), and Lua EVAL
 * escapes.  This module answers all of them the way the claimed server
 * version does, never connects anywhere, and logs what arrives:
 *
 *   - every command is one command.input event (the command as text);
 *   - AUTH / HELLO AUTH are login events;
 *   - SAVE / BGSAVE store what the keyspace holds as the file that would
 *     have been written (DIR/DBFILENAME) through hp_upload_record, and
 *     emit redis.file_write; URLs in stored values go to the capture
 *     pipeline;
 *   - SLAVEOF / REPLICAOF, MODULE LOAD and EVAL have their own events.
 *
 * Parsing follows networking.c: input starting with '*' is a RESP
 * multibulk, anything else an inline command split like sdssplitargs();
 * the same "Protocol error: ..." texts are sent before closing.  Lengths
 * are capped far below the real server's (redis.h) and all input is read
 * through hp_rd.  A command that is not complete stays in the core's
 * buffer; the parser keeps its place in it (hp_redis_part), so a command
 * trickled in a byte per read is still read once.
 *
 * Each connection has its own small keyspace and its own view of the
 * configuration (what it CONFIG SETs it sees again, other connections do
 * not), which keeps attackers from seeing each other and keeps state
 * bounded.  The claimed version (5.0 / 6.0 / 6.2 / 7.0, a real release) is
 * drawn once per sensor and kept in the identity file; INFO, COMMAND,
 * HELLO and the error texts follow it.
 */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/sha.h>
#include "capture/capture.h"
#include "capture/upload.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "login.h"
#include "proto.h"
#include "redis.h"
#include "shell/shell.h"
#include "util.h"

/* ---- parsing ------------------------------------------------------------------- */

/* The server's string2ll(): optional '-', no '+', no spaces, no leading zeros. */
static bool rd_str2ll(const uint8_t *p, size_t n, long long *out)
{
    if (n == 0 || n > 20)
        return false;
    size_t i = 0;
    bool neg = false;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    if (p[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1)
            return false;
    }
    if (p[i] < '1' || p[i] > '9')
        return false;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        if (v > (ULLONG_MAX - 9) / 10)
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

static int rd_perr(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "Protocol error: %s", msg);
    return -1;
}

/* Where the server's strchr(buf, end) stops in r from *scan: the offset of
 * the first 'end' (true), or false when there is none yet.  The server looks
 * for a line end in a C string, so a NUL before it hides it for good: the
 * connection waits until the "too big" limit.  *scan then stays on the NUL
 * (found again at once), else moves to the end of what was looked at. */
static bool rd_line_end(const struct hp_rd *r, struct hp_redis_part *pt, uint8_t end, size_t *at)
{
    size_t *scan = &pt->scan;
    uint8_t stop[256] = {0};
    stop[end] = stop[0] = 1;
    struct hp_rd rest = *r;
    hp_rd_skip(&rest, *scan);
    size_t n = hp_rd_span(&rest, stop);
    *scan += n;
    pt->nul = n < hp_rd_left(&rest) && hp_rd_peek_u8(&rest, n) == 0;
    if (n == hp_rd_left(&rest) || pt->nul)
        return false;
    if (at)
        *at = *scan;
    return true;
}

/* One "<prefix><number>\r\n" line at the reader's position; 1 with the value,
 * 0 when the line is not complete, -1 (err set) when it cannot be.  *scan:
 * bytes of the line already known to hold no '\r' (kept while it waits). */
static int rd_count_line(struct hp_rd *r, struct hp_redis_part *pt, long long *v, const char *toobig, char *err,
                         size_t errlen, int *badc)
{
    size_t cr, *scan = &pt->scan;
    if (!rd_line_end(r, pt, '\r', &cr))
        return hp_rd_left(r) > HP_REDIS_INLINE_MAX ? rd_perr(err, errlen, toobig) : 0;
    *scan = cr;
    if (cr + 2 > hp_rd_left(r))              /* the '\n' is not here yet */
        return 0;
    const uint8_t *p = hp_rd_ptr(r);
    *badc = p[0];
    bool ok = rd_str2ll(p + 1, cr - 1, v);
    hp_rd_skip(r, cr + 2);
    *scan = 0;
    return ok ? 1 : 2;                       /* 2: a line, but no number */
}

/* The next argument's count line, checked as the server does. */
static int rd_bulk_len(struct hp_rd *r, struct hp_redis_part *pt, char *err, size_t errlen)
{
    long long bl;
    int c, rc = rd_count_line(r, pt, &bl, "too big bulk count string", err, errlen, &c);
    if (rc <= 0)
        return rc;
    if (c != '$') {
        char m[64];
        snprintf(m, sizeof(m), "expected '$', got '%c'", c);
        return rd_perr(err, errlen, m);
    }
    if (rc == 2 || bl < 0 || bl > HP_REDIS_MAX_BULK || pt->total + (size_t)bl > HP_REDIS_MAX_CMD)
        return rd_perr(err, errlen, "invalid bulk length");
    pt->bl = bl;
    return 1;
}

/* Reads on from where cmd->part says the last call stopped (offsets from
 * the start of in); argv points into in once the command is complete. */
static int rd_parse_multibulk(struct hp_rd *in, struct hp_redis_cmd *cmd, char *err, size_t errlen)
{
    struct hp_redis_part *pt = &cmd->part;
    struct hp_rd r = *in;
    hp_rd_skip(&r, pt->off);
    int c, rc;
    if (!pt->started) {
        rc = rd_count_line(&r, pt, &pt->n, "too big mbulk count string", err, errlen, &c);
        if (rc <= 0)
            return rc;
        if (rc == 2 || pt->n > HP_REDIS_MAX_ARGS)
            return rd_perr(err, errlen, "invalid multibulk length");
        pt->started = true;
        pt->off = hp_rd_pos(&r) - hp_rd_pos(in);
    }
    while ((long long)pt->done < pt->n) {
        if (pt->bl < 0 && (rc = rd_bulk_len(&r, pt, err, errlen)) <= 0)
            return rc;
        pt->off = hp_rd_pos(&r) - hp_rd_pos(in);
        if (hp_rd_left(&r) < (size_t)pt->bl + 2)
            return 0;
        pt->argo[pt->done] = pt->off;
        cmd->argl[pt->done++] = (size_t)pt->bl;
        hp_rd_skip(&r, (size_t)pt->bl + 2);  /* the server does not check the CRLF either */
        pt->total += (size_t)pt->bl;
        pt->bl = -1;
        pt->off = hp_rd_pos(&r) - hp_rd_pos(in);
    }
    for (cmd->argc = 0; cmd->argc < pt->done; cmd->argc++) {
        struct hp_rd a = *in;
        hp_rd_skip(&a, pt->argo[cmd->argc]);
        cmd->argv[cmd->argc] = hp_rd_bytes(&a, cmd->argl[cmd->argc]);
    }
    *in = r;
    return 1;
}

static bool rd_space(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

/* sdssplitargs() over p[0..n) (the line; it holds no NUL: rd_line_end
 * never finds a line end past one).  Arguments go to cmd->scratch; offsets in argv until
 * the end.  false on unbalanced quotes. */
static bool rd_splitargs(const uint8_t *p, size_t n, struct hp_redis_cmd *cmd)
{
    size_t offs[HP_REDIS_MAX_ARGS];
    size_t i = 0;
    hp_buf_reset(&cmd->scratch);
    cmd->argc = 0;
#define AT(k) ((k) < n ? p[k] : 0)
    for (;;) {
        while (AT(i) && rd_space(AT(i)))
            i++;
        if (!AT(i))
            break;
        if (cmd->argc >= HP_REDIS_MAX_ARGS)
            return false;
        size_t start = cmd->scratch.len;
        bool inq = false, insq = false, done = false;
        while (!done) {
            int ch = AT(i);
            if (inq) {
                if (ch == '\\' && AT(i + 1) == 'x' && hp_hexval(AT(i + 2)) >= 0 && hp_hexval(AT(i + 3)) >= 0) {
                    hp_buf_putc(&cmd->scratch, (uint8_t)(hp_hexval(AT(i + 2)) * 16 + hp_hexval(AT(i + 3))));
                    i += 3;
                } else if (ch == '\\' && AT(i + 1)) {
                    i++;
                    int e = AT(i);
                    e = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e == 'b' ? '\b' : e == 'a' ? '\a' : e;
                    hp_buf_putc(&cmd->scratch, (uint8_t)e);
                } else if (ch == '"') {
                    if (AT(i + 1) && !rd_space(AT(i + 1)))
                        return false;
                    done = true;
                } else if (!ch) {
                    return false;
                } else {
                    hp_buf_putc(&cmd->scratch, (uint8_t)ch);
                }
            } else if (insq) {
                if (ch == '\\' && AT(i + 1) == '\'') {
                    i++;
                    hp_buf_putc(&cmd->scratch, '\'');
                } else if (ch == '\'') {
                    if (AT(i + 1) && !rd_space(AT(i + 1)))
                        return false;
                    done = true;
                } else if (!ch) {
                    return false;
                } else {
                    hp_buf_putc(&cmd->scratch, (uint8_t)ch);
                }
            } else if (rd_space(ch) || !ch) {
                done = true;
            } else if (ch == '"') {
                inq = true;
            } else if (ch == '\'') {
                insq = true;
            } else {
                hp_buf_putc(&cmd->scratch, (uint8_t)ch);
            }
            if (AT(i))
                i++;
        }
        offs[cmd->argc] = start;
        cmd->argl[cmd->argc++] = cmd->scratch.len - start;
    }
#undef AT
    if (!hp_buf_ok(&cmd->scratch))
        return false;
    for (size_t k = 0; k < cmd->argc; k++)
        cmd->argv[k] = cmd->scratch.data ? cmd->scratch.data + offs[k] : (const uint8_t *)"";
    return true;
}

static int rd_parse_inline(struct hp_rd *in, struct hp_redis_cmd *cmd, char *err, size_t errlen)
{
    /* the line's end is looked for in what came since the last look */
    size_t left = hp_rd_left(in), win = left < HP_REDIS_INLINE_MAX ? left : HP_REDIS_INLINE_MAX;
    struct hp_rd look = *in, win_rd;
    hp_rd_sub(&look, win, &win_rd);
    if (!rd_line_end(&win_rd, &cmd->part, '\n', NULL))
        return left > HP_REDIS_INLINE_MAX ? rd_perr(err, errlen, "too big inline request") : 0;
    const uint8_t *line;
    size_t len;
    if (!hp_rd_line(in, HP_REDIS_INLINE_MAX, &line, &len))
        return 0;
    if (!rd_splitargs(line, len, cmd))
        return rd_perr(err, errlen, "unbalanced quotes in request");
    return 1;
}

static void rd_part_reset(struct hp_redis_part *pt)
{
    pt->started = false;
    pt->n = 0;
    pt->done = 0;
    pt->bl = -1;
    pt->off = pt->scan = pt->total = pt->seen = 0;
    pt->nul = false;
}

int hp_redis_parse_next(struct hp_rd *in, struct hp_redis_cmd *cmd, char *err, size_t errlen)
{
    if (cmd->scratch.cap == 0)
        hp_buf_init(&cmd->scratch, HP_REDIS_INLINE_MAX + 16);
    cmd->argc = 0;
    size_t left = hp_rd_left(in);
    if (left < cmd->part.seen || cmd->part.seen == 0)
        rd_part_reset(&cmd->part);           /* not the input the last call waited on */
    if (left == 0)
        return 0;
    cmd->is_inline = hp_rd_peek_u8(in, 0) != '*';
    int rc = cmd->is_inline ? rd_parse_inline(in, cmd, err, errlen) : rd_parse_multibulk(in, cmd, err, errlen);
    if (rc == 0)
        cmd->part.seen = left;
    else
        rd_part_reset(&cmd->part);
    return rc;
}

int hp_redis_parse(struct hp_rd *in, struct hp_redis_cmd *cmd, char *err, size_t errlen)
{
    rd_part_reset(&cmd->part);
    return hp_redis_parse_next(in, cmd, err, errlen);
}

void hp_redis_cmd_free(struct hp_redis_cmd *cmd)
{
    hp_buf_free(&cmd->scratch);
}

/* ---- the claimed server ---------------------------------------------------------- */

/* Real releases (as packaged by Debian/Ubuntu or the official images) with
 * the compiler and allocator those builds report. */
struct rd_release {
    const char *version;
    const char *gcc;
    const char *allocator;
};

static const struct rd_release rd_releases[] = {
    {"5.0.7", "9.2.1", "jemalloc-5.2.1"},
    {"5.0.14", "8.3.0", "jemalloc-5.1.0"},
    {"6.0.16", "10.2.1", "jemalloc-5.2.1"},
    {"6.0.20", "10.2.1", "jemalloc-5.1.0"},
    {"6.2.6", "11.2.0", "jemalloc-5.1.0"},
    {"6.2.14", "10.2.1", "jemalloc-5.1.0"},
    {"7.0.11", "12.2.0", "jemalloc-5.3.0"},   /* Debian 12 links its own jemalloc */
    {"7.0.15", "12.2.0", "jemalloc-5.3.0"},   /* (seen on Debian 12's 7.0.15) */
};

static const char *const rd_kernels[] = {
    "5.4.0-150-generic", "5.15.0-91-generic", "5.15.0-105-generic", "6.1.0-18-amd64",
    "5.10.0-28-amd64", "4.19.0-26-amd64", "6.5.0-1017-azure", "5.15.0-1056-aws",
    "3.10.0-1160.108.1.el7.x86_64", "4.18.0-513.11.1.el8_9.x86_64",
};

/* What INFO reports for this run of the "server" (drawn at start: a restart
 * of the sensor is a restart of the server). */
static struct {
    char version[24];
    int major, minor;
    char gcc[16];
    char allocator[24];
    char kernel[64];
    char run_id[41];
    char build_id[17];
    char replid[41];
    long pid;
    int64_t started_us;       /* claimed server start (before the sensor's) */
    uint64_t conns;           /* total_connections_received */
    uint64_t cmds;            /* total_commands_processed */
    uint64_t next_id;         /* client ids */
    bool ready;
} rd_id;

static int rd_parse_version(const char *v, int *maj, int *min)
{
    int a, b, c, n = 0;
    if (!v || strlen(v) >= sizeof(rd_id.version) || sscanf(v, "%d.%d.%d%n", &a, &b, &c, &n) != 3 ||
        v[n] != '\0' || a < 2 || a > 99 || b < 0 || c < 0)
        return -1;
    *maj = a;
    *min = b;
    return 0;
}

static void rd_pick(char *out, size_t len, const char *key, const char *const *set, size_t n)
{
    const char *v = hp_identity_get(key);
    if (!v || !*v || strlen(v) >= len || strchr(v, '\r') || strchr(v, '\n')) {
        v = set[hp_random_u64() % n];
        hp_identity_set(key, v);
    }
    snprintf(out, len, "%s", v);
}

int hp_redis_set_version(const char *version)
{
    int maj, min;
    if (rd_parse_version(version, &maj, &min) != 0)
        return -1;
    snprintf(rd_id.version, sizeof(rd_id.version), "%s", version);
    rd_id.major = maj;
    rd_id.minor = min;
    const struct rd_release *rel = &rd_releases[HP_ARRAY_LEN(rd_releases) - 1];
    for (size_t i = 0; i < HP_ARRAY_LEN(rd_releases); i++)    /* the same x.y, else the exact one */
        if (strncmp(rd_releases[i].version, version, 4) == 0 && strcmp(rel->version, version) != 0)
            rel = &rd_releases[i];
    snprintf(rd_id.gcc, sizeof(rd_id.gcc), "%s", rel->gcc);
    snprintf(rd_id.allocator, sizeof(rd_id.allocator), "%s", rel->allocator);
    return 0;
}

const char *hp_redis_version(void)
{
    return rd_id.version;
}

/* Draw (or read back) the sensor's server once. */
static void rd_identity_init(const char *configured)
{
    if (rd_id.ready)
        return;
    const char *versions[HP_ARRAY_LEN(rd_releases)];
    for (size_t i = 0; i < HP_ARRAY_LEN(rd_releases); i++)
        versions[i] = rd_releases[i].version;
    char v[24];
    if (configured)
        snprintf(v, sizeof(v), "%s", configured);
    else
        rd_pick(v, sizeof(v), "redis_version", versions, HP_ARRAY_LEN(versions));
    if (hp_redis_set_version(v) != 0)
        hp_redis_set_version(rd_releases[HP_ARRAY_LEN(rd_releases) - 1].version);
    rd_pick(rd_id.kernel, sizeof(rd_id.kernel), "redis_kernel", rd_kernels, HP_ARRAY_LEN(rd_kernels));
    hp_random_hex(rd_id.run_id, 40);
    hp_random_hex(rd_id.replid, 40);
    hp_random_hex(rd_id.build_id, 16);
    rd_id.pid = 400 + (long)(hp_random_u64() % 3000);
    /* Up for 1 to 120 days already, with a history of connections. */
    rd_id.started_us = hp_now_us() - (int64_t)(86400 + hp_random_u64() % (120 * 86400)) * 1000000;
    rd_id.conns = 20 + hp_random_u64() % 5000;
    rd_id.cmds = rd_id.conns * 3 + hp_random_u64() % 20000;
    rd_id.next_id = rd_id.conns + 2;
    rd_id.ready = true;
}

static bool rd_ver_ge(int maj, int min)
{
    return rd_id.major > maj || (rd_id.major == maj && rd_id.minor >= min);
}

/* ---- a connection ------------------------------------------------------------------ */

#define RD_MAX_KEYS       256
#define RD_MAX_KEYBYTES   (2 * 1024 * 1024)   /* keys and values of one connection */
#define RD_MAX_OVERRIDES  32                  /* CONFIG SET values of one connection */
#define RD_MAX_LOGINS     64                  /* login events per connection */
#define RD_INPUT_MAX      (64 * 1024)         /* command.input text */
#define RD_OUT_MAX        (4 * 1024 * 1024)   /* replies to one input */
#define RD_MATCH_BUDGET   (16u << 20)         /* pattern match steps of one connection (~25 ms) */
#define RD_SAVE_BYTES     (4 * RD_MAX_KEYBYTES) /* SAVEd file bytes stored per connection */

struct rd_key {
    uint8_t db;
    uint8_t *name;
    size_t nlen;
    uint8_t *val;
    size_t vlen;
    size_t cap;                               /* bytes allocated at val (APPEND grows it in place) */
    int64_t expire_ms;                        /* monotonic deadline, 0: none */
};

struct rd_override {
    char *name;
    char *value;
};

struct hp_redis_sess {
    const struct hp_redis_conf *conf;
    const struct hp_evctx *ctx;
    struct hp_buf *out;
    struct hp_redis_cmd cmd;
    struct rd_key keys[RD_MAX_KEYS];
    size_t nkeys;
    size_t keybytes;
    struct rd_override ov[RD_MAX_OVERRIDES];
    size_t nov;
    size_t match_budget;                      /* rd_match steps left (RD_MATCH_BUDGET) */
    size_t saved_bytes;                       /* SAVEd file bytes stored so far */
    int db;
    bool authed;
    unsigned logins;
    char name[64];
    char peer[64];
    char master_host[256];
    long master_port;
    uint64_t id;
    int64_t start_ms;
    uint64_t dirty;                           /* changes since the last SAVE */
    int64_t lastsave;
    unsigned errors;
    struct { char code[16]; unsigned n; } errstat[8];   /* errors by code, in code order */
    unsigned saves, bgsaves;                  /* SAVEs and BGSAVEs done */
    bool close;
    bool rogue;                               /* SLAVEOF a host was asked (the rogue-master attack) */
    bool module;                              /* then MODULE LOAD answered OK: system.* commands */
    bool stall_logged;                        /* rd_ev_stalled done */
    const char *close_reason;
};

struct hp_redis_sess *hp_redis_sess_new(const struct hp_redis_conf *conf, const struct hp_evctx *ctx,
                                        const char *peer)
{
    rd_identity_init(conf ? conf->version : NULL);
    struct hp_redis_sess *s = hp_xcalloc(1, sizeof(*s));
    s->conf = conf;
    s->ctx = ctx;
    s->authed = !conf || !conf->requirepass;
    s->id = rd_id.next_id++;
    s->start_ms = hp_mono_ms();
    s->match_budget = RD_MATCH_BUDGET;
    s->lastsave = (rd_id.started_us / 1000000) + 3600;
    snprintf(s->peer, sizeof(s->peer), "%s", peer ? peer : "127.0.0.1:40000");
    rd_id.conns++;
    return s;
}

static void rd_key_drop(struct hp_redis_sess *s, size_t i)
{
    s->keybytes -= s->keys[i].nlen + s->keys[i].vlen;
    free(s->keys[i].name);
    free(s->keys[i].val);
    memmove(&s->keys[i], &s->keys[i + 1], (s->nkeys - i - 1) * sizeof(s->keys[0]));
    s->nkeys--;
}

void hp_redis_sess_free(struct hp_redis_sess *s)
{
    if (!s)
        return;
    while (s->nkeys)
        rd_key_drop(s, s->nkeys - 1);
    for (size_t i = 0; i < s->nov; i++) {
        free(s->ov[i].name);
        free(s->ov[i].value);
    }
    hp_redis_cmd_free(&s->cmd);
    free(s);
}

/* ---- replies ----------------------------------------------------------------------- */

static void rep_raw(struct hp_redis_sess *s, const char *t)
{
    hp_buf_puts(s->out, t);
}

static void rep_status(struct hp_redis_sess *s, const char *t)
{
    hp_buf_printf(s->out, "+%s\r\n", t);
}

/* INFO errorstats counts errors by their first word (ERR, WRONGPASS, ...),
 * listed in byte order like the server's rax. */
static void rd_errstat(struct hp_redis_sess *s, const char *msg)
{
    char code[16];
    size_t l = strcspn(msg, " ");
    snprintf(code, sizeof(code), "%.*s", (int)(l < sizeof(code) ? l : sizeof(code) - 1), msg);
    size_t n = HP_ARRAY_LEN(s->errstat), i;
    for (i = 0; i < n && s->errstat[i].code[0]; i++) {
        int c = strcmp(s->errstat[i].code, code);
        if (c == 0) {
            s->errstat[i].n++;
            return;
        }
        if (c > 0)
            break;
    }
    if (i == n || s->errstat[n - 1].code[0])
        return;                                /* a ninth code: not listed */
    memmove(&s->errstat[i + 1], &s->errstat[i], (n - 1 - i) * sizeof(s->errstat[0]));
    snprintf(s->errstat[i].code, sizeof(s->errstat[i].code), "%s", code);
    s->errstat[i].n = 1;
}

/* An error reply; like addReplyErrorFormat, CR and LF become spaces. */
static void rep_err(struct hp_redis_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep_err(struct hp_redis_sess *s, const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    for (char *p = m; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    hp_buf_printf(s->out, "%s%s\r\n", m[0] == '-' ? "" : "-", m);
    s->errors++;
    rd_errstat(s, m + (m[0] == '-'));
}

static void rep_int(struct hp_redis_sess *s, long long v)
{
    hp_buf_printf(s->out, ":%lld\r\n", v);
}

static void rep_bulk(struct hp_redis_sess *s, const void *p, size_t n)
{
    hp_buf_printf(s->out, "$%zu\r\n", n);
    hp_buf_put(s->out, p, n);
    hp_buf_puts(s->out, "\r\n");
}

static void rep_bulks(struct hp_redis_sess *s, const char *t)
{
    rep_bulk(s, t, strlen(t));
}

static void rep_nil(struct hp_redis_sess *s)
{
    rep_raw(s, "$-1\r\n");
}

static void rep_arr(struct hp_redis_sess *s, size_t n)
{
    hp_buf_printf(s->out, "*%zu\r\n", n);
}

/* ---- arguments and events ------------------------------------------------------------ */

/* An argument as the C string the server would see (up to a NUL), cut to fit. */
static const char *rd_cstr(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    while (k < n && k + 1 < outlen && p[k])
        out[k] = (char)p[k], k++;
    out[k] = '\0';
    return out;
}

static bool rd_is(const struct hp_redis_cmd *cmd, size_t i, const char *word)
{
    size_t wl = strlen(word);
    return i < cmd->argc && cmd->argl[i] == wl && strncasecmp((const char *)cmd->argv[i], word, wl) == 0;
}

/* The command as text, each argument quoted like redis-cli prints it when
 * it has to be (spaces, quotes, control or non-ASCII bytes). */
static void rd_render(const struct hp_redis_cmd *cmd, struct hp_buf *b)
{
    for (size_t i = 0; i < cmd->argc && hp_buf_ok(b); i++) {
        const uint8_t *p = cmd->argv[i];
        size_t n = cmd->argl[i];
        bool plain = n > 0;
        for (size_t k = 0; k < n && plain; k++)
            plain = p[k] > ' ' && p[k] < 0x7f && p[k] != '"' && p[k] != '\'' && p[k] != '\\';
        if (i)
            hp_buf_putc(b, ' ');
        if (plain) {
            hp_buf_put(b, p, n);
            continue;
        }
        hp_buf_putc(b, '"');
        for (size_t k = 0; k < n; k++) {
            uint8_t ch = p[k];
            if (ch == '\\' || ch == '"')
                hp_buf_printf(b, "\\%c", ch);
            else if (ch == '\n')
                hp_buf_puts(b, "\\n");
            else if (ch == '\r')
                hp_buf_puts(b, "\\r");
            else if (ch == '\t')
                hp_buf_puts(b, "\\t");
            else if (ch < ' ' || ch >= 0x7f)
                hp_buf_printf(b, "\\x%02x", ch);
            else
                hp_buf_putc(b, ch);
        }
        hp_buf_putc(b, '"');
    }
}

static void rd_ev_input(struct hp_redis_sess *s, const struct hp_redis_cmd *cmd)
{
    struct hp_buf t;
    hp_buf_init(&t, RD_INPUT_MAX);
    rd_render(cmd, &t);
    char verb[64];
    rd_cstr(cmd->argv[0], cmd->argl[0], verb, sizeof(verb));
    for (char *p = verb; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", t.data ? t.data : (const uint8_t *)"", t.len);
    if (!hp_buf_ok(&t))
        hp_ev_bool(&ev, "input_truncated", true);
    hp_ev_str(&ev, "command", verb);
    hp_ev_int(&ev, "database", s->db);
    if (cmd->is_inline)
        hp_ev_bool(&ev, "inline", true);
    hp_ev_emit(&ev);
    hp_buf_free(&t);
}

static void rd_ev_login(struct hp_redis_sess *s, bool ok, const uint8_t *user, size_t ulen,
                        const uint8_t *pass, size_t plen, const char *via)
{
    if (s->logins >= RD_MAX_LOGINS)
        return;
    s->logins++;
    const struct hp_login l = { user, ulen, pass, plen, "redis_auth", s->logins };
    struct hp_ev ev;
    hp_login_ev_begin(&ev, s->ctx, ok, &l);
    hp_ev_str(&ev, "command", via);
    hp_login_ev_emit(&ev, &l);
}

/* ---- the per-connection configuration view ---------------------------------------- */

/* Real defaults (Debian's redis.conf where it differs from the built-in one).
 * 7.0 has every parameter of 7.0.15's CONFIG GET * (the others added there
 * are claimed by 7.0 only), each with the check its CONFIG SET makes. */
struct rd_param {
    const char *name;
    const char *value;
    int since;                                 /* major*10+minor it appeared in, 0: always */
    char type;                                 /* 7.0's check: b yes/no, i integer, m memory, p memory or
                                                * percent, e enum, s any, x immutable, d dir, f dbfilename,
                                                * v save */
    const char *arg;                           /* i/m: "min max"; e: the choices as the error lists them */
};

static const struct rd_param rd_params[] = {
    {"dbfilename", "dump.rdb", 0, 'f', NULL},
    {"requirepass", "", 0, 's', NULL},
    {"masterauth", "", 0, 's', NULL},
    {"unixsocket", "", 0, 'x', NULL},
    {"logfile", "/var/log/redis/redis-server.log", 0, 'x', NULL},
    {"pidfile", "/run/redis/redis-server.pid", 0, 'x', NULL},
    {"maxmemory", "0", 0, 'm', NULL},
    {"maxmemory-samples", "5", 0, 'i', "1 2147483647"},
    {"timeout", "0", 0, 'i', "0 2147483647"},
    {"auto-aof-rewrite-percentage", "100", 0, 'i', "0 2147483647"},
    {"auto-aof-rewrite-min-size", "67108864", 0, 'm', "0 9223372036854775807"},
    {"hash-max-ziplist-entries", "512", 0, 'i', "0 9223372036854775807"},
    {"hash-max-ziplist-value", "64", 0, 'm', "0 9223372036854775807"},
    {"list-max-ziplist-size", "-2", 0, 'i', "-2147483648 2147483647"},
    {"set-max-intset-entries", "512", 0, 'i', "0 9223372036854775807"},
    {"zset-max-ziplist-entries", "128", 0, 'i', "0 9223372036854775807"},
    {"zset-max-ziplist-value", "64", 0, 'm', "0 9223372036854775807"},
    {"lua-time-limit", "5000", 0, 'i', "0 9223372036854775807"},
    {"slowlog-log-slower-than", "10000", 0, 'i', "-1 9223372036854775807"},
    {"slowlog-max-len", "128", 0, 'i', "0 9223372036854775807"},
    {"port", "6379", 0, 'x', NULL},
    {"tcp-backlog", "511", 0, 'x', NULL},
    {"databases", "16", 0, 'x', NULL},
    {"maxclients", "10000", 0, 'i', "1 4294967295"},
    {"hz", "10", 0, 'i', "0 2147483647"},
    {"tcp-keepalive", "300", 0, 'i', "0 2147483647"},
    {"protected-mode", "no", 0, 'b', NULL},
    {"daemonize", "yes", 0, 'x', NULL},
    {"supervised", "systemd", 0, 'x', NULL},
    {"loglevel", "notice", 0, 'e', "debug, verbose, notice, warning"},
    {"maxmemory-policy", "noeviction", 0, 'e', "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
    {"appendonly", "no", 0, 'b', NULL},
    {"appendfsync", "everysec", 0, 'e', "everysec, always, no"},
    {"appendfilename", "appendonly.aof", 0, 'x', NULL},
    {"rdbcompression", "yes", 0, 'b', NULL},
    {"rdbchecksum", "yes", 0, 'x', NULL},
    {"stop-writes-on-bgsave-error", "yes", 0, 'b', NULL},
    {"replica-read-only", "yes", 50, 'b', NULL},
    {"slave-read-only", "yes", 0, 'b', NULL},
    {"replica-serve-stale-data", "yes", 50, 'b', NULL},
    {"io-threads", "1", 60, 'x', NULL},
    {"io-threads-do-reads", "no", 60, 'x', NULL},
    {"enable-protected-configs", "yes", 70, 'x', NULL},
    {"enable-debug-command", "no", 70, 'x', NULL},
    {"enable-module-command", "yes", 70, 'x', NULL},
    {"dir", "/var/lib/redis", 0, 'd', NULL},
    {"bind", "0.0.0.0", 0, 'x', NULL},
    {"save", "", 0, 'v', NULL},
    {"acl-pubsub-default", "resetchannels", 70, 'e', "allchannels, resetchannels"},
    {"aclfile", "", 70, 'x', NULL},
    {"acllog-max-len", "128", 70, 'i', "0 9223372036854775807"},
    {"active-defrag-cycle-max", "25", 70, 'i', "1 99"},
    {"active-defrag-cycle-min", "1", 70, 'i', "1 99"},
    {"active-defrag-ignore-bytes", "104857600", 70, 'm', "1 9223372036854775807"},
    {"active-defrag-max-scan-fields", "1000", 70, 'i', "1 9223372036854775807"},
    {"active-defrag-threshold-lower", "10", 70, 'i', "0 1000"},
    {"active-defrag-threshold-upper", "100", 70, 'i', "0 1000"},
    {"active-expire-effort", "1", 70, 'i', "1 10"},
    {"activedefrag", "no", 70, 'b', NULL},
    {"activerehashing", "yes", 70, 'b', NULL},
    {"always-show-logo", "no", 70, 'x', NULL},
    {"aof-disable-auto-gc", "no", 70, 'b', NULL},
    {"aof-load-truncated", "yes", 70, 'b', NULL},
    {"aof-rewrite-incremental-fsync", "yes", 70, 'b', NULL},
    {"aof-timestamp-enabled", "no", 70, 'b', NULL},
    {"aof-use-rdb-preamble", "yes", 70, 'b', NULL},
    {"aof_rewrite_cpulist", "", 70, 'x', NULL},
    {"appenddirname", "appendonlydir", 70, 'x', NULL},
    {"bgsave_cpulist", "", 70, 'x', NULL},
    {"bind-source-addr", "", 70, 's', NULL},
    {"bio_cpulist", "", 70, 'x', NULL},
    {"busy-reply-threshold", "5000", 70, 'i', "0 9223372036854775807"},
    {"client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", 70, 's', NULL},
    {"client-query-buffer-limit", "1073741824", 70, 'm', "1048576 9223372036854775807"},
    {"cluster-allow-pubsubshard-when-down", "yes", 70, 'b', NULL},
    {"cluster-allow-reads-when-down", "no", 70, 'b', NULL},
    {"cluster-allow-replica-migration", "yes", 70, 'b', NULL},
    {"cluster-announce-bus-port", "0", 70, 'i', "0 65535"},
    {"cluster-announce-hostname", "", 70, 's', NULL},
    {"cluster-announce-ip", "", 70, 's', NULL},
    {"cluster-announce-port", "0", 70, 'i', "0 65535"},
    {"cluster-announce-tls-port", "0", 70, 'i', "0 65535"},
    {"cluster-config-file", "nodes.conf", 70, 'x', NULL},
    {"cluster-enabled", "no", 70, 'x', NULL},
    {"cluster-link-sendbuf-limit", "0", 70, 'm', NULL},
    {"cluster-migration-barrier", "1", 70, 'i', "0 2147483647"},
    {"cluster-node-timeout", "15000", 70, 'i', "0 9223372036854775807"},
    {"cluster-port", "0", 70, 'x', NULL},
    {"cluster-preferred-endpoint-type", "ip", 70, 'e', "ip, hostname, unknown-endpoint"},
    {"cluster-replica-no-failover", "no", 70, 'b', NULL},
    {"cluster-replica-validity-factor", "10", 70, 'i', "0 2147483647"},
    {"cluster-require-full-coverage", "yes", 70, 'b', NULL},
    {"cluster-slave-no-failover", "no", 70, 'b', NULL},
    {"cluster-slave-validity-factor", "10", 70, 'i', "0 2147483647"},
    {"crash-log-enabled", "yes", 70, 'b', NULL},
    {"crash-memcheck-enabled", "yes", 70, 'b', NULL},
    {"disable-thp", "yes", 70, 'x', NULL},
    {"dynamic-hz", "yes", 70, 'b', NULL},
    {"hash-max-listpack-entries", "512", 70, 'i', "0 9223372036854775807"},
    {"hash-max-listpack-value", "64", 70, 'm', "0 9223372036854775807"},
    {"hll-sparse-max-bytes", "3000", 70, 'm', "0 9223372036854775807"},
    {"ignore-warnings", "", 70, 's', NULL},
    {"jemalloc-bg-thread", "yes", 70, 'b', NULL},
    {"latency-monitor-threshold", "0", 70, 'i', "0 9223372036854775807"},
    {"latency-tracking", "yes", 70, 'b', NULL},
    {"latency-tracking-info-percentiles", "50 99 99.9", 70, 's', NULL},
    {"lazyfree-lazy-eviction", "no", 70, 'b', NULL},
    {"lazyfree-lazy-expire", "no", 70, 'b', NULL},
    {"lazyfree-lazy-server-del", "no", 70, 'b', NULL},
    {"lazyfree-lazy-user-del", "no", 70, 'b', NULL},
    {"lazyfree-lazy-user-flush", "no", 70, 'b', NULL},
    {"lfu-decay-time", "1", 70, 'i', "0 2147483647"},
    {"lfu-log-factor", "10", 70, 'i', "0 2147483647"},
    {"list-compress-depth", "0", 70, 'i', "0 2147483647"},
    {"list-max-listpack-size", "-2", 70, 'i', "-2147483648 2147483647"},
    {"masteruser", "", 70, 's', NULL},
    {"maxmemory-clients", "0", 70, 'p', NULL},
    {"maxmemory-eviction-tenacity", "10", 70, 'i', "0 100"},
    {"min-replicas-max-lag", "10", 70, 'i', "0 2147483647"},
    {"min-replicas-to-write", "0", 70, 'i', "0 2147483647"},
    {"min-slaves-max-lag", "10", 70, 'i', "0 2147483647"},
    {"min-slaves-to-write", "0", 70, 'i', "0 2147483647"},
    {"no-appendfsync-on-rewrite", "no", 70, 'b', NULL},
    {"notify-keyspace-events", "", 70, 's', NULL},
    {"oom-score-adj", "no", 70, 'e', "no, yes, relative, absolute"},
    {"oom-score-adj-values", "0 200 800", 70, 's', NULL},
    {"proc-title-template", "{title} {listen-addr} {server-mode}", 70, 's', NULL},
    {"propagation-error-behavior", "ignore", 70, 'e', "ignore, panic, panic-on-replicas"},
    {"proto-max-bulk-len", "536870912", 70, 'm', "1048576 9223372036854775807"},
    {"rdb-del-sync-files", "no", 70, 'b', NULL},
    {"rdb-save-incremental-fsync", "yes", 70, 'b', NULL},
    {"repl-backlog-size", "1048576", 70, 'm', "1 9223372036854775807"},
    {"repl-backlog-ttl", "3600", 70, 'i', "0 9223372036854775807"},
    {"repl-disable-tcp-nodelay", "no", 70, 'b', NULL},
    {"repl-diskless-load", "disabled", 70, 'e', "disabled, on-empty-db, swapdb"},
    {"repl-diskless-sync", "yes", 70, 'b', NULL},
    {"repl-diskless-sync-delay", "5", 70, 'i', "0 2147483647"},
    {"repl-diskless-sync-max-replicas", "0", 70, 'i', "0 2147483647"},
    {"repl-ping-replica-period", "10", 70, 'i', "1 2147483647"},
    {"repl-ping-slave-period", "10", 70, 'i', "1 2147483647"},
    {"repl-timeout", "60", 70, 'i', "1 2147483647"},
    {"replica-announce-ip", "", 70, 's', NULL},
    {"replica-announce-port", "0", 70, 'i', "0 65535"},
    {"replica-announced", "yes", 70, 'b', NULL},
    {"replica-ignore-disk-write-errors", "no", 70, 'b', NULL},
    {"replica-ignore-maxmemory", "yes", 70, 'b', NULL},
    {"replica-lazy-flush", "no", 70, 'b', NULL},
    {"replica-priority", "100", 70, 'i', "0 2147483647"},
    {"replicaof", "", 70, 'x', NULL},
    {"sanitize-dump-payload", "no", 70, 'e', "no, yes, clients"},
    {"server_cpulist", "", 70, 'x', NULL},
    {"set-proc-title", "yes", 70, 'x', NULL},
    {"shutdown-on-sigint", "default", 70, 'e', "default, save, nosave, now, force"},
    {"shutdown-on-sigterm", "default", 70, 'e', "default, save, nosave, now, force"},
    {"shutdown-timeout", "10", 70, 'i', "0 2147483647"},
    {"slave-announce-ip", "", 70, 's', NULL},
    {"slave-announce-port", "0", 70, 'i', "0 65535"},
    {"slave-ignore-maxmemory", "yes", 70, 'b', NULL},
    {"slave-lazy-flush", "no", 70, 'b', NULL},
    {"slave-priority", "100", 70, 'i', "0 2147483647"},
    {"slave-serve-stale-data", "yes", 70, 'b', NULL},
    {"slaveof", "", 70, 'x', NULL},
    {"socket-mark-id", "0", 70, 'x', NULL},
    {"stream-node-max-bytes", "4096", 70, 'm', "0 9223372036854775807"},
    {"stream-node-max-entries", "100", 70, 'i', "0 9223372036854775807"},
    {"syslog-enabled", "no", 70, 'x', NULL},
    {"syslog-facility", "local0", 70, 'x', NULL},
    {"syslog-ident", "redis", 70, 'x', NULL},
    {"tls-auth-clients", "yes", 70, 'e', "no, yes, optional"},
    {"tls-ca-cert-dir", "", 70, 's', NULL},
    {"tls-ca-cert-file", "", 70, 's', NULL},
    {"tls-cert-file", "", 70, 's', NULL},
    {"tls-ciphers", "", 70, 's', NULL},
    {"tls-ciphersuites", "", 70, 's', NULL},
    {"tls-client-cert-file", "", 70, 's', NULL},
    {"tls-client-key-file", "", 70, 's', NULL},
    {"tls-client-key-file-pass", "", 70, 's', NULL},
    {"tls-cluster", "no", 70, 'b', NULL},
    {"tls-dh-params-file", "", 70, 's', NULL},
    {"tls-key-file", "", 70, 's', NULL},
    {"tls-key-file-pass", "", 70, 's', NULL},
    {"tls-port", "0", 70, 'i', "0 65535"},
    {"tls-prefer-server-ciphers", "no", 70, 'b', NULL},
    {"tls-protocols", "", 70, 's', NULL},
    {"tls-replication", "no", 70, 'b', NULL},
    {"tls-session-cache-size", "20480", 70, 'i', "0 2147483647"},
    {"tls-session-cache-timeout", "300", 70, 'i', "0 2147483647"},
    {"tls-session-caching", "yes", 70, 'b', NULL},
    {"tracking-table-max-keys", "1000000", 70, 'i', "0 9223372036854775807"},
    {"unixsocketperm", "0", 70, 'x', NULL},
    {"zset-max-listpack-entries", "128", 70, 'i', "0 9223372036854775807"},
    {"zset-max-listpack-value", "64", 70, 'm', "0 9223372036854775807"},
};

static int rd_vnum(void)
{
    return rd_id.major * 10 + (rd_id.minor > 9 ? 9 : rd_id.minor);
}

static const char *rd_param_default(const struct rd_param *p)
{
    if (strcmp(p->name, "save") == 0)
        return rd_ver_ge(7, 0) ? "3600 1 300 100 60 10000" : "900 1 300 10 60 10000";
    if (strcmp(p->name, "port") == 0)
        return NULL;                           /* the service's port */
    return p->value;
}

static const struct rd_param *rd_param_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(rd_params); i++)
        if (strcasecmp(rd_params[i].name, name) == 0 && rd_params[i].since <= rd_vnum())
            return &rd_params[i];
    return NULL;
}

/* The connection's value of a parameter (its CONFIG SET, else the default). */
static const char *rd_param_get(const struct hp_redis_sess *s, const struct rd_param *p, char *tmp, size_t tlen)
{
    for (size_t i = 0; i < s->nov; i++)
        if (strcmp(s->ov[i].name, p->name) == 0)
            return s->ov[i].value;
    if (strcmp(p->name, "requirepass") == 0 && s->conf && s->conf->requirepass)
        return s->conf->requirepass;
    const char *v = rd_param_default(p);
    if (!v) {
        snprintf(tmp, tlen, "%u", s->conf && s->conf->port ? s->conf->port : 6379);
        return tmp;
    }
    return v;
}

static bool rd_param_set(struct hp_redis_sess *s, const struct rd_param *p, const char *value)
{
    for (size_t i = 0; i < s->nov; i++)
        if (strcmp(s->ov[i].name, p->name) == 0) {
            free(s->ov[i].value);
            s->ov[i].value = hp_xstrdup(value);
            return true;
        }
    if (s->nov >= RD_MAX_OVERRIDES)
        return false;
    s->ov[s->nov].name = hp_xstrdup(p->name);
    s->ov[s->nov++].value = hp_xstrdup(value);
    return true;
}

static const char *rd_dir(const struct hp_redis_sess *s)
{
    char tmp[8];
    return rd_param_get(s, rd_param_find("dir"), tmp, sizeof(tmp));
}

static const char *rd_dbfilename(const struct hp_redis_sess *s)
{
    char tmp[8];
    return rd_param_get(s, rd_param_find("dbfilename"), tmp, sizeof(tmp));
}

/* One pattern token (a byte, '?', '[...]', an escape) against byte c:
 * its length when it matches, 0 when not. */
static size_t rd_tok(const uint8_t *p, size_t pl, uint8_t c, bool nocase)
{
    uint8_t lc = nocase ? (uint8_t)tolower(c) : c;
    if (*p == '?')
        return 1;
    if (*p == '\\' && pl >= 2)
        return (nocase ? tolower(p[1]) == lc : p[1] == c) ? 2 : 0;
    if (*p != '[')
        return (nocase ? tolower(*p) == lc : *p == c) ? 1 : 0;
    size_t i = 1;
    bool neg = i < pl && p[i] == '^', hit = false;
    if (neg)
        i++;
    for (; i < pl && p[i] != ']'; i++) {
        if (p[i] == '\\' && i + 1 < pl) {
            i++;
            hit |= p[i] == c;
        } else if (i + 2 < pl && p[i + 1] == '-') {
            uint8_t a = p[i], b = p[i + 2], x = c;
            if (a > b) { uint8_t t = a; a = b; b = t; }
            if (nocase) { a = (uint8_t)tolower(a); b = (uint8_t)tolower(b); x = lc; }
            hit |= x >= a && x <= b;
            i += 2;
        } else {
            hit |= nocase ? tolower(p[i]) == lc : p[i] == c;
        }
    }
    if (neg)
        hit = !hit;
    return hit ? (i < pl ? i + 1 : i) : 0;
}

/* stringmatchlen() for KEYS, SCAN and CONFIG GET patterns, as the classic
 * iterative wildcard match (backtrack to the last '*'): O(pattern x string)
 * whatever the pattern, where the server's recursion can be exponential.
 * That is still 67 M steps for one 262-byte KEYS over 256 keys of 1 KiB
 * names, so the steps (a '[' class costs its length) come out of the
 * connection's budget; once it is spent nothing matches.  A trailing '*'
 * matches at once, so "KEYS *" and "prefix*" cost next to nothing. */
static bool rd_match(const uint8_t *p, size_t pl, const uint8_t *s, size_t sl, bool nocase, size_t *budget)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sl) {
        size_t cost = pi < pl && p[pi] == '[' ? 1 + pl - pi : 1;
        if (*budget < cost) {
            *budget = 0;
            return false;
        }
        *budget -= cost;
        if (pi < pl && p[pi] == '*') {
            while (pi < pl && p[pi] == '*')
                pi++;
            if (pi == pl)
                return true;
            star_p = pi;
            star_s = si;
            continue;
        }
        size_t tl = pi < pl ? rd_tok(p + pi, pl - pi, s[si], nocase) : 0;
        if (tl) {
            pi += tl;
            si++;
        } else if (star_p != SIZE_MAX) {
            pi = star_p;
            si = ++star_s;
        } else {
            return false;
        }
    }
    while (pi < pl && p[pi] == '*')
        pi++;
    return pi == pl;
}

/* ---- the keyspace ------------------------------------------------------------------ */

#define RD_MAX_KEYNAME 1024                   /* longer names are answered but not kept */
#define RD_MAX_PATTERN 256

static void rd_expire_due(struct hp_redis_sess *s)
{
    int64_t now = hp_mono_ms();
    for (size_t i = s->nkeys; i-- > 0;)
        if (s->keys[i].expire_ms && s->keys[i].expire_ms <= now)
            rd_key_drop(s, i);
}

static long rd_key_find(struct hp_redis_sess *s, const uint8_t *name, size_t nlen)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].db == s->db && s->keys[i].nlen == nlen && memcmp(s->keys[i].name, name, nlen) == 0)
            return (long)i;
    return -1;
}

/* Store a string; false (and nothing kept) past the connection's caps.
 * Values are what a SAVE writes, so URLs in them go to the capture pipeline. */
static bool rd_key_set(struct hp_redis_sess *s, const uint8_t *name, size_t nlen, const uint8_t *val,
                       size_t vlen, int64_t expire_ms)
{
    hp_capture_scan(s->ctx, val, vlen, "redis");
    s->dirty++;
    long i = rd_key_find(s, name, nlen);
    if (i >= 0)
        rd_key_drop(s, (size_t)i);
    if (nlen > RD_MAX_KEYNAME || s->nkeys >= RD_MAX_KEYS || s->keybytes + nlen + vlen > RD_MAX_KEYBYTES)
        return false;
    struct rd_key *k = &s->keys[s->nkeys++];
    k->db = (uint8_t)s->db;
    k->name = hp_xcalloc(1, nlen + 1);
    memcpy(k->name, name, nlen);
    k->nlen = nlen;
    k->val = hp_xcalloc(1, vlen + 1);
    memcpy(k->val, val, vlen);
    k->vlen = vlen;
    k->cap = vlen + 1;
    k->expire_ms = expire_ms;
    s->keybytes += nlen + vlen;
    return true;
}

static size_t rd_db_keys(const struct hp_redis_sess *s, int db, size_t *expires)
{
    size_t n = 0, e = 0;
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].db == db) {
            n++;
            e += s->keys[i].expire_ms != 0;
        }
    if (expires)
        *expires = e;
    return n;
}

/* ---- INFO -------------------------------------------------------------------------- */

static void rd_human(char *out, size_t len, uint64_t v)
{
    if (v < 1024)
        snprintf(out, len, "%" PRIu64 "B", v);
    else if (v < 1024 * 1024)
        snprintf(out, len, "%.2fK", v / 1024.0);
    else if (v < 1024ull * 1024 * 1024)
        snprintf(out, len, "%.2fM", v / 1048576.0);
    else
        snprintf(out, len, "%.2fG", v / 1073741824.0);
}

static void info_server(struct hp_redis_sess *s, struct hp_buf *b)
{
    int64_t now = hp_now_us();
    int64_t up = (now - rd_id.started_us) / 1000000;
    hp_buf_printf(b, "# Server\r\nredis_version:%s\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                  "redis_build_id:%s\r\nredis_mode:standalone\r\nos:Linux %s x86_64\r\narch_bits:64\r\n",
                  rd_id.version, rd_id.build_id, rd_id.kernel);
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, "monotonic_clock:POSIX clock_gettime\r\n");
    hp_buf_printf(b, "multiplexing_api:epoll\r\natomicvar_api:%s\r\ngcc_version:%s\r\nprocess_id:%ld\r\n",
                  rd_ver_ge(6, 2) ? "c11-builtin" : "atomic-builtin", rd_id.gcc, rd_id.pid);
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, "process_supervised:systemd\r\n");
    hp_buf_printf(b, "run_id:%s\r\ntcp_port:%u\r\n", rd_id.run_id, s->conf && s->conf->port ? s->conf->port : 6379);
    if (rd_ver_ge(6, 2))
        hp_buf_printf(b, "server_time_usec:%" PRId64 "\r\n", now);
    hp_buf_printf(b, "uptime_in_seconds:%" PRId64 "\r\nuptime_in_days:%" PRId64 "\r\nhz:10\r\nconfigured_hz:10\r\n"
                  "lru_clock:%" PRId64 "\r\nexecutable:/usr/bin/redis-server\r\nconfig_file:/etc/redis/redis.conf\r\n",
                  up, up / 86400, (now / 1000000) & ((1 << 24) - 1));
    if (rd_ver_ge(6, 0))
        hp_buf_puts(b, "io_threads_active:0\r\n");
}

static void info_clients(struct hp_redis_sess *s, struct hp_buf *b)
{
    hp_buf_printf(b, "# Clients\r\nconnected_clients:1\r\n");
    if (rd_ver_ge(7, 0))
        hp_buf_puts(b, "cluster_connections:0\r\nmaxclients:10000\r\n");
    hp_buf_puts(b, "client_recent_max_input_buffer:20480\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\n");
    if (rd_ver_ge(6, 0))
        hp_buf_puts(b, "tracking_clients:0\r\n");
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, "clients_in_timeout_table:0\r\n");
}

/* "name:value" lines; the value formatted like printf. */
static void info_kv(struct hp_buf *b, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void info_kv(struct hp_buf *b, const char *name, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    hp_buf_printf(b, "%s:%s\r\n", name, v);
}

/* Several "name:0" lines (space-separated names). */
static void info_zeros(struct hp_buf *b, const char *names)
{
    for (const char *p = names; *p;) {
        size_t l = strcspn(p, " ");
        hp_buf_printf(b, "%.*s:0\r\n", (int)l, p);
        p += l + (p[l] == ' ');
    }
}

/* The Lua / functions lines of a fresh 7.0 server (as 7.0.15 reports them
 * before any script ran); older releases have the Lua VM and script cache. */
static void info_memory_scripts(struct hp_buf *b)
{
    if (rd_ver_ge(7, 0)) {
        hp_buf_puts(b, "used_memory_lua:32768\r\nused_memory_vm_eval:32768\r\nused_memory_lua_human:32.00K\r\n"
                       "used_memory_scripts_eval:0\r\nnumber_of_cached_scripts:0\r\nnumber_of_functions:0\r\n"
                       "number_of_libraries:0\r\nused_memory_vm_functions:33792\r\nused_memory_vm_total:66560\r\n"
                       "used_memory_vm_total_human:65.00K\r\nused_memory_functions:200\r\nused_memory_scripts:200\r\n"
                       "used_memory_scripts_human:200B\r\n");
        return;
    }
    hp_buf_puts(b, "used_memory_lua:37888\r\nused_memory_lua_human:37.00K\r\n");
    if (rd_ver_ge(6, 0))
        hp_buf_puts(b, "used_memory_scripts:0\r\nused_memory_scripts_human:0B\r\nnumber_of_cached_scripts:0\r\n");
}

static void info_memory(struct hp_redis_sess *s, struct hp_buf *b)
{
    uint64_t base = 860000 + (uint64_t)(rd_id.pid * 37) % 40000;
    uint64_t used = base + s->keybytes + s->nkeys * 72;
    uint64_t rss = 7 * 1024 * 1024 + (uint64_t)(rd_id.pid * 977) % (4 * 1024 * 1024);
    uint64_t peak = used + 120000 + (uint64_t)(rd_id.pid * 131) % 500000;
    uint64_t total = 4ull * 1024 * 1024 * 1024 - 300 * 1024 * 1024 + (uint64_t)(rd_id.pid % 7) * 1024 * 1024 * 1024;
    /* jemalloc's view: allocated > used, active ~1.2x, resident ~2.2x of that, rss above */
    uint64_t alloc = used + 520000, active = alloc + alloc / 5, resident = active * 2 + active / 5;
    char h[32];
    rd_human(h, sizeof(h), used);
    hp_buf_printf(b, "# Memory\r\nused_memory:%" PRIu64 "\r\nused_memory_human:%s\r\n", used, h);
    rd_human(h, sizeof(h), rss);
    hp_buf_printf(b, "used_memory_rss:%" PRIu64 "\r\nused_memory_rss_human:%s\r\n", rss, h);
    rd_human(h, sizeof(h), peak);
    hp_buf_printf(b, "used_memory_peak:%" PRIu64 "\r\nused_memory_peak_human:%s\r\n", peak, h);
    info_kv(b, "used_memory_peak_perc", "%.2f%%", 100.0 * (double)used / (double)peak);
    info_kv(b, "used_memory_overhead", "%" PRIu64, base - 40000);
    info_kv(b, "used_memory_startup", "%" PRIu64, base - 58000);
    info_kv(b, "used_memory_dataset", "%" PRIu64, used - (base - 40000));
    info_kv(b, "used_memory_dataset_perc", "%.2f%%",
            100.0 * (double)(used - (base - 40000)) / (double)(used - (base - 58000)));
    info_kv(b, "allocator_allocated", "%" PRIu64, alloc);
    info_kv(b, "allocator_active", "%" PRIu64, active);
    info_kv(b, "allocator_resident", "%" PRIu64, resident);
    rd_human(h, sizeof(h), total);
    hp_buf_printf(b, "total_system_memory:%" PRIu64 "\r\ntotal_system_memory_human:%s\r\n", total, h);
    info_memory_scripts(b);
    hp_buf_puts(b, "maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n");
    info_kv(b, "allocator_frag_ratio", "%.2f", (double)active / (double)alloc);
    info_kv(b, "allocator_frag_bytes", "%" PRIu64, active - alloc);
    info_kv(b, "allocator_rss_ratio", "%.2f", (double)resident / (double)active);
    info_kv(b, "allocator_rss_bytes", "%" PRIu64, resident - active);
    info_kv(b, "rss_overhead_ratio", "%.2f", (double)rss / (double)resident);
    info_kv(b, "rss_overhead_bytes", "%" PRIu64, rss - resident);
    info_kv(b, "mem_fragmentation_ratio", "%.2f", (double)rss / (double)used);
    info_kv(b, "mem_fragmentation_bytes", "%" PRIu64, rss - used);
    info_zeros(b, rd_ver_ge(7, 0) ? "mem_not_counted_for_evict mem_replication_backlog mem_total_replication_buffers "
                                    "mem_clients_slaves mem_clients_normal mem_cluster_links mem_aof_buffer"
                                  : "mem_not_counted_for_evict mem_replication_backlog mem_clients_slaves "
                                    "mem_clients_normal mem_aof_buffer");
    hp_buf_printf(b, "mem_allocator:%s\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\n", rd_id.allocator);
    if (rd_ver_ge(7, 0))
        hp_buf_puts(b, "lazyfreed_objects:0\r\n");
}

static void info_persistence(struct hp_redis_sess *s, struct hp_buf *b)
{
    bool v7 = rd_ver_ge(7, 0);
    hp_buf_printf(b, "# Persistence\r\nloading:0\r\n");
    if (v7)
        hp_buf_puts(b, "async_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\n"
                       "current_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n");
    hp_buf_printf(b, "rdb_changes_since_last_save:%" PRIu64 "\r\nrdb_bgsave_in_progress:0\r\n"
                  "rdb_last_save_time:%" PRId64 "\r\nrdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:%d\r\n"
                  "rdb_current_bgsave_time_sec:-1\r\n",
                  s->dirty, s->lastsave, s->bgsaves ? 0 : -1);
    if (v7)
        hp_buf_printf(b, "rdb_saves:%u\r\n", s->saves);
    hp_buf_puts(b, "rdb_last_cow_size:0\r\n");
    if (v7)
        hp_buf_puts(b, "rdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\n");
    hp_buf_puts(b, "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
                   "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\n");
    if (v7)
        hp_buf_puts(b, "aof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\n");
    hp_buf_puts(b, "aof_last_write_status:ok\r\naof_last_cow_size:0\r\n");
    if (rd_ver_ge(6, 0))
        hp_buf_puts(b, "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
}

static void info_stats(struct hp_redis_sess *s, struct hp_buf *b)
{
    bool v7 = rd_ver_ge(7, 0);
    int64_t up = (hp_now_us() - rd_id.started_us) / 1000000;
    hp_buf_printf(b, "# Stats\r\ntotal_connections_received:%" PRIu64 "\r\ntotal_commands_processed:%" PRIu64
                  "\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:%" PRIu64
                  "\r\ntotal_net_output_bytes:%" PRIu64 "\r\n",
                  rd_id.conns, rd_id.cmds, rd_id.cmds * 37 + 1000, rd_id.conns * 2900 + rd_id.cmds * 11);
    if (v7)
        hp_buf_puts(b, "total_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\n");
    hp_buf_puts(b, "instantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\n");
    if (v7)
        hp_buf_puts(b, "instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\n");
    hp_buf_puts(b, "rejected_connections:0\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n"
                   "expired_keys:0\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\n");
    if (v7)                                    /* the active expire cycle: ~0.05 ms a second */
        hp_buf_printf(b, "expire_cycle_cpu_milliseconds:%" PRId64 "\r\n", up / 20);
    hp_buf_puts(b, "evicted_keys:0\r\n");
    if (v7)
        hp_buf_puts(b, "evicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\n");
    hp_buf_puts(b, "keyspace_hits:0\r\nkeyspace_misses:0\r\npubsub_channels:0\r\npubsub_patterns:0\r\n");
    if (v7)
        hp_buf_puts(b, "pubsubshard_channels:0\r\n");
    hp_buf_puts(b, "latest_fork_usec:0\r\n");
    if (v7)
        hp_buf_puts(b, "total_forks:0\r\n");
    hp_buf_puts(b, "migrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\n"
                   "active_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n");
    if (v7)
        hp_buf_puts(b, "total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n");
    if (rd_ver_ge(6, 0))
        hp_buf_puts(b, "tracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\n"
                       "unexpected_error_replies:0\r\n");
    if (rd_ver_ge(6, 2))
        hp_buf_printf(b, "total_error_replies:%u\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:%" PRIu64
                      "\r\ntotal_writes_processed:%" PRIu64 "\r\nio_threaded_reads_processed:0\r\n"
                      "io_threaded_writes_processed:0\r\n",
                      s->errors, rd_id.cmds + rd_id.conns, rd_id.cmds);
    if (v7)                                    /* about one shrink per two connections */
        hp_buf_printf(b, "reply_buffer_shrinks:%" PRIu64 "\r\nreply_buffer_expands:0\r\n", rd_id.conns / 2);
}

static void info_replication(struct hp_redis_sess *s, struct hp_buf *b)
{
    if (s->master_host[0]) {
        hp_buf_printf(b, "# Replication\r\nrole:slave\r\nmaster_host:%s\r\nmaster_port:%ld\r\n"
                      "master_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\nmaster_sync_in_progress:0\r\n"
                      "slave_read_repl_offset:0\r\nslave_repl_offset:0\r\nmaster_link_down_since_seconds:-1\r\n"
                      "slave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n",
                      s->master_host, s->master_port);
    } else {
        hp_buf_puts(b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
    }
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, "master_failover_state:no-failover\r\n");
    hp_buf_printf(b, "master_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
                  "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
                  "repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                  rd_id.replid);
}

static void info_cpu(struct hp_redis_sess *s, struct hp_buf *b)
{
    double up = (double)(hp_now_us() - rd_id.started_us) / 1e6;
    hp_buf_printf(b, "# CPU\r\nused_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:0.004211\r\n"
                  "used_cpu_user_children:0.001370\r\n", up * 0.00121, up * 0.00093);
    if (rd_ver_ge(7, 0))                       /* the main thread: all but a sliver */
        hp_buf_printf(b, "used_cpu_sys_main_thread:%.6f\r\nused_cpu_user_main_thread:%.6f\r\n", up * 0.00119,
                      up * 0.00092);
}

static void info_keyspace(struct hp_redis_sess *s, struct hp_buf *b)
{
    hp_buf_puts(b, "# Keyspace\r\n");
    for (int db = 0; db < 16; db++) {
        size_t e, n = rd_db_keys(s, db, &e);
        if (n)
            hp_buf_printf(b, "db%d:keys=%zu,expires=%zu,avg_ttl=0\r\n", db, n, e);
    }
}

static void info_errorstats(struct hp_redis_sess *s, struct hp_buf *b)
{
    hp_buf_puts(b, "# Errorstats\r\n");
    for (size_t i = 0; i < HP_ARRAY_LEN(s->errstat) && s->errstat[i].code[0]; i++)
        hp_buf_printf(b, "errorstat_%s:count=%u\r\n", s->errstat[i].code, s->errstat[i].n);
}

struct rd_section {
    const char *name;
    void (*fn)(struct hp_redis_sess *, struct hp_buf *);
    int since;
    bool dflt;
};

static const struct rd_section rd_sections[] = {
    {"server", info_server, 0, true},           {"clients", info_clients, 0, true},
    {"memory", info_memory, 0, true},           {"persistence", info_persistence, 0, true},
    {"stats", info_stats, 0, true},             {"replication", info_replication, 0, true},
    {"cpu", info_cpu, 0, true},                 {"modules", NULL, 60, true},
    {"errorstats", info_errorstats, 62, false}, {"cluster", NULL, 0, true},     /* 7.0: errorstats by default */
    {"keyspace", info_keyspace, 0, true},
};

/* Is section (a name, "default", "all", "everything") one of the words
 * asked for?  No words: the default sections.  7.0 takes several words,
 * older releases the first. */
static bool rd_info_wants(const struct hp_redis_cmd *c, const struct rd_section *sec)
{
    bool dflt = sec->dflt || (sec->fn == info_errorstats && rd_ver_ge(7, 0));
    size_t last = c->argc < 2 ? 1 : rd_ver_ge(7, 0) ? c->argc - 1 : 1;
    if (c->argc < 2)
        return dflt;
    for (size_t i = 1; i <= last; i++)
        if ((rd_is(c, i, "default") && dflt) || rd_is(c, i, "all") || rd_is(c, i, "everything") ||
            rd_is(c, i, sec->name))
            return true;
    return false;
}

static void rd_info(struct hp_redis_sess *s, const struct hp_redis_cmd *c, struct hp_buf *b)
{
    bool first = true;
    for (size_t i = 0; i < HP_ARRAY_LEN(rd_sections); i++) {
        const struct rd_section *sec = &rd_sections[i];
        if (sec->since > rd_vnum() || !rd_info_wants(c, sec))
            continue;
        if (!first)
            hp_buf_puts(b, "\r\n");
        first = false;
        if (sec->fn)
            sec->fn(s, b);
        else if (strcmp(sec->name, "modules") == 0)
            hp_buf_puts(b, "# Modules\r\n");
        else
            hp_buf_puts(b, "# Cluster\r\ncluster_enabled:0\r\n");
    }
}

/* ---- commands ---------------------------------------------------------------------- */

typedef void rd_fn(struct hp_redis_sess *s, struct hp_redis_cmd *c);

/* Is word one of the space-separated words of list? */
static bool rd_word_in(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, " ");
        if (l == wl && memcmp(p, word, wl) == 0)
            return true;
        p += l + (p[l] == ' ');
    }
    return false;
}

static void rd_err_arity(struct hp_redis_sess *s, const char *name)
{
    rep_err(s, "ERR wrong number of arguments for '%s' command", name);
}

/* A subcommand we do not answer, or one of ours (known: space-separated,
 * lower case) with a wrong argument count: 7.0 checks each subcommand's
 * arity in the table and names it 'module|load', older releases have one
 * text for both. */
static void rd_err_subcmd(struct hp_redis_sess *s, const struct hp_redis_cmd *c, const char *upper,
                          const char *known)
{
    char sub[129], low[32];
    rd_cstr(c->argv[1], c->argl[1], sub, sizeof(sub));
    size_t n = strlen(sub);
    for (size_t i = 0; i <= n && i < sizeof(low); i++)
        low[i] = (char)tolower((unsigned char)sub[i]);
    if (rd_ver_ge(7, 0) && n == c->argl[1] && n < sizeof(low) && rd_word_in(known, low)) {
        char cmd[16];
        snprintf(cmd, sizeof(cmd), "%s", upper);
        for (char *q = cmd; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        rep_err(s, "ERR wrong number of arguments for '%s|%s' command", cmd, low);
    } else if (rd_ver_ge(7, 0))
        rep_err(s, "ERR unknown subcommand '%s'. Try %s HELP.", sub, upper);
    else
        rep_err(s, "ERR Unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.", sub, upper);
}

/* 7.0's addReplySubcommandSyntaxError(): a subcommand that passed the
 * table's arity check but not its handler's (older releases have one text
 * for both, rd_err_subcmd's). */
static void rd_err_subsyntax(struct hp_redis_sess *s, const struct hp_redis_cmd *c, const char *upper)
{
    char sub[129];
    rep_err(s, "ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.",
            rd_cstr(c->argv[1], c->argl[1], sub, sizeof(sub)), upper);
}

static bool rd_getll(struct hp_redis_sess *s, const struct hp_redis_cmd *c, size_t i, long long *v)
{
    if (i < c->argc && rd_str2ll(c->argv[i], c->argl[i], v))
        return true;
    rep_err(s, "ERR value is not an integer or out of range");
    return false;
}

static void cmd_ping(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (c->argc > 2)
        rd_err_arity(s, "ping");
    else if (c->argc == 2)
        rep_bulk(s, c->argv[1], c->argl[1]);
    else
        rep_status(s, "PONG");
}

static void cmd_echo(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rep_bulk(s, c->argv[1], c->argl[1]);
}

static void rd_wrongpass(struct hp_redis_sess *s)
{
    if (!rd_ver_ge(6, 0))
        rep_err(s, "ERR invalid password");
    else if (rd_ver_ge(7, 0))
        rep_err(s, "-WRONGPASS invalid username-password pair or user is disabled.");
    else
        rep_err(s, "-WRONGPASS invalid username-password pair");
}

/* One credential check (AUTH or HELLO AUTH); replies only on failure.
 * Without requirepass, as on a default install, the default user has no
 * password: 'AUTH pass' is an error, 'AUTH default anything' works. */
static bool rd_check_auth(struct hp_redis_sess *s, const uint8_t *u, size_t ul, const uint8_t *p, size_t pl,
                          const char *via)
{
    /* the password this connection set with CONFIG SET requirepass counts, as
     * on the server (a miner locking others out AUTHs with it next) */
    char tmp[32];
    const struct rd_param *rp = rd_param_find("requirepass");
    const char *need = rp ? rd_param_get(s, rp, tmp, sizeof(tmp)) : NULL;
    if (need && !*need)
        need = NULL;
    bool named = u != NULL;
    if (!named)
        u = (const uint8_t *)"default", ul = 7;
    bool is_default = ul == 7 && memcmp(u, "default", 7) == 0;
    bool ok;
    if (!need) {
        ok = named && is_default;
        if (!named)
            rep_err(s, rd_ver_ge(6, 0) ? "ERR AUTH <password> called without any password configured for "
                                         "the default user. Are you sure your configuration is correct?"
                                       : "ERR Client sent AUTH, but no password is set");
        else if (!ok)
            rd_wrongpass(s);
    } else {
        ok = is_default && pl == strlen(need) && memcmp(p, need, pl) == 0;
        if (!ok)
            rd_wrongpass(s);
    }
    rd_ev_login(s, ok, u, ul, p, pl, via);
    if (ok)
        s->authed = true;
    return ok;
}

static void cmd_auth(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (c->argc > 3 || (c->argc == 3 && !rd_ver_ge(6, 0))) {
        if (rd_ver_ge(6, 0))
            rep_err(s, "ERR syntax error");
        else
            rd_err_arity(s, "auth");
        return;
    }
    bool ok = c->argc == 2 ? rd_check_auth(s, NULL, 0, c->argv[1], c->argl[1], "auth")
                           : rd_check_auth(s, c->argv[1], c->argl[1], c->argv[2], c->argl[2], "auth");
    if (ok)
        rep_status(s, "OK");
}

static void cmd_select(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    long long db;
    if (!rd_str2ll(c->argv[1], c->argl[1], &db))   /* 7.0 parses it as any integer argument */
        rep_err(s, rd_ver_ge(7, 0) ? "ERR value is not an integer or out of range" : "ERR invalid DB index");
    else if (db < 0 || db > 15)
        rep_err(s, "ERR DB index is out of range");
    else {
        s->db = (int)db;
        rep_status(s, "OK");
    }
}

static void cmd_info(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (c->argc > 2 && !rd_ver_ge(7, 0)) {    /* one section before 7.0 */
        rep_err(s, "ERR syntax error");
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, 32 * 1024);
    rd_info(s, c, &b);
    rep_bulk(s, b.data ? b.data : (const uint8_t *)"", b.len);
    hp_buf_free(&b);
}

/* ---- CONFIG -- */

/* CONFIG GET patterns...; 7.0 answers a name without glob characters
 * ("CONFIG GET Timeout") with the name as it was typed. */
static void config_get(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    const uint8_t *names[HP_ARRAY_LEN(rd_params)];
    size_t nlen[HP_ARRAY_LEN(rd_params)];
    const char *vals[HP_ARRAY_LEN(rd_params)];
    char tmp[HP_ARRAY_LEN(rd_params)][8];
    size_t n = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(rd_params); i++) {
        const struct rd_param *p = &rd_params[i];
        if (p->since > rd_vnum())
            continue;
        size_t a, hit = 0;
        for (a = 2; a < c->argc && !hit; a++)
            hit = c->argl[a] <= RD_MAX_PATTERN &&
                  rd_match(c->argv[a], c->argl[a], (const uint8_t *)p->name, strlen(p->name), true,
                           &s->match_budget);
        if (hit) {
            bool typed = rd_ver_ge(7, 0) && !memchr(c->argv[a - 1], '*', c->argl[a - 1]) &&
                         !memchr(c->argv[a - 1], '?', c->argl[a - 1]) && !memchr(c->argv[a - 1], '[', c->argl[a - 1]);
            names[n] = typed ? c->argv[a - 1] : (const uint8_t *)p->name;
            nlen[n] = typed ? c->argl[a - 1] : strlen(p->name);
            vals[n] = rd_param_get(s, p, tmp[n], sizeof(tmp[n]));
            n++;
        }
    }
    rep_arr(s, 2 * n);
    for (size_t i = 0; i < n; i++) {
        rep_bulk(s, names[i], nlen[i]);
        rep_bulks(s, vals[i]);
    }
}

/* CONFIG SET dir: the server chdir()s and reports getcwd(); a honeypot
 * accepts any directory (the attack must go on) and normalises the same. */
static bool config_dir(struct hp_redis_sess *s, const char *v, char *out, size_t outlen)
{
    if (!*v)
        return false;
    struct hp_buf b;
    hp_buf_init(&b, outlen - 1);
    if (v[0] != '/') {
        hp_buf_puts(&b, strcmp(rd_dir(s), "/") == 0 ? "" : rd_dir(s));
        hp_buf_putc(&b, '/');
    }
    hp_buf_puts(&b, v);
    size_t n = b.len;
    memcpy(out, b.data ? b.data : (const uint8_t *)"", n);
    out[n] = '\0';
    hp_buf_free(&b);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return true;
}

/* The server's memtoull(): digits and a unit (b k kb m mb g gb), "" is 0,
 * a sign is refused, past ULLONG_MAX the digits saturate and the product
 * wraps as in C. */
static bool rd_memtoull(const char *v, unsigned long long *out)
{
    static const struct { const char *u; unsigned long long mul; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000000}, {"mb", 1 << 20},
        {"g", 1000000000}, {"gb", 1ull << 30},
    };
    size_t d = strspn(v, "0123456789");
    unsigned long long val = 0;
    for (size_t i = 0; i < d; i++)
        val = val > (ULLONG_MAX - 9) / 10 ? ULLONG_MAX : val * 10 + (unsigned)(v[i] - '0');
    for (size_t i = 0; i < HP_ARRAY_LEN(units); i++)
        if (strcasecmp(v + d, units[i].u) == 0) {
            *out = val * units[i].mul;
            return true;
        }
    return false;
}

/* "min max" of an i/m parameter. */
static bool rd_bounds(const struct rd_param *p, long long *lo, long long *hi)
{
    return p->arg && sscanf(p->arg, "%lld %lld", lo, hi) == 2;
}

/* save: pairs of seconds (>= 1) and changes (>= 0) split at each single
 * space as 7.0's sdssplitlen, each read by strtoll; written back as the
 * server prints them ("09 01" reads back "9 1"). */
static bool rd_save_value(const char *v, char *out, size_t outlen)
{
    size_t k = 0, o = 0;
    out[0] = '\0';
    if (!*v)
        return true;
    for (const char *t = v;; k++) {
        size_t l = strcspn(t, " ");
        char tok[32], *e;
        if (l >= sizeof(tok))
            return false;
        memcpy(tok, t, l);
        tok[l] = '\0';
        long long n = strtoll(tok, &e, 10);
        if (*e || (k % 2 == 0 && n < 1) || (k % 2 == 1 && n < 0))
            return false;
        int w = snprintf(out + o, outlen - o, "%s%lld", k ? " " : "", k % 2 ? (long long)(int)n : n);
        if (w < 0 || (size_t)w >= outlen - o)
            return false;
        o += (size_t)w;
        if (!t[l])
            break;
        t += l + 1;
    }
    return k % 2 == 1;
}

/* One value for 7.0's CONFIG SET p: its normalised form in out (what
 * CONFIG GET shows), or NULL with the server's reason. */
static const char *rd_check_v7(struct hp_redis_sess *s, const struct rd_param *p, const char *v, char *out,
                               size_t outlen)
{
    long long n, lo, hi;
    unsigned long long m;
    snprintf(out, outlen, "%s", v);
    switch (p->type) {
    case 'b':
        if (strcasecmp(v, "yes") && strcasecmp(v, "no"))
            return NULL;
        snprintf(out, outlen, "%s", strcasecmp(v, "yes") ? "no" : "yes");
        break;
    case 'i':
        if (!rd_str2ll((const uint8_t *)v, strlen(v), &n))
            return NULL;
        if (rd_bounds(p, &lo, &hi) && (n < lo || n > hi))
            return NULL;
        if (strcmp(p->name, "hz") == 0)        /* kept within 1..500 */
            n = n < 1 ? 1 : n > 500 ? 500 : n;
        snprintf(out, outlen, "%lld", n);
        break;
    case 'p':
        if (*v && v[strspn(v, "0123456789")] == '%' && !v[strspn(v, "0123456789") + 1])
            break;
        /* fall through */
    case 'm':
        if (*v == '-' || !rd_memtoull(v, &m))
            return NULL;
        if (rd_bounds(p, &lo, &hi) && (m < (unsigned long long)lo || m > (unsigned long long)hi))
            return NULL;
        snprintf(out, outlen, "%llu", m);
        break;
    case 'e':
        for (const char *c = p->arg; c && *c;) {
            size_t l = strcspn(c, ",");
            if (strlen(v) == l && strncasecmp(c, v, l) == 0) {
                snprintf(out, outlen, "%.*s", (int)l, c);
                return out;
            }
            c += l + (c[l] == ',') + (c[l] == ',' && c[l + 1] == ' ');
        }
        return NULL;
    case 'v':
        return rd_save_value(v, out, outlen) ? out : NULL;
    case 'd':
        return config_dir(s, v, out, outlen) ? out : NULL;
    case 'f':
        return strchr(v, '/') ? NULL : out;
    }
    return out;
}

/* Why rd_check_v7 refused v, in the server's words. */
static void rd_why_v7(const struct rd_param *p, char *why, size_t len)
{
    long long lo, hi;
    char tmp[128];
    const char *v = NULL;
    switch (p->type) {
    case 'b': v = "argument must be 'yes' or 'no'"; break;
    case 'i':
    case 'm':
    case 'p':
        v = p->type == 'i' ? "argument couldn't be parsed into an integer"
          : p->type == 'm' ? "argument must be a memory value" : "argument must be a memory or percent value";
        if (rd_bounds(p, &lo, &hi)) {          /* a number, but out of range: which one the caller knows */
            snprintf(tmp, sizeof(tmp), "argument must be between %lld and %lld inclusive", lo, hi);
            v = tmp;
        }
        break;
    case 'e': snprintf(why, len, "argument(s) must be one of the following: %s", p->arg); return;
    case 'v': v = "Invalid save parameters"; break;
    case 'd': v = "No such file or directory"; break;
    case 'f': v = "dbfilename can't be a path, just a filename"; break;
    }
    snprintf(why, len, "%s", v ? v : "invalid argument");
}

/* An i/m/p value that is a number of the right shape (so that only its
 * range was wrong). */
static bool rd_is_number(const struct rd_param *p, const char *v)
{
    long long n;
    unsigned long long m;
    if (p->type == 'i')
        return rd_str2ll((const uint8_t *)v, strlen(v), &n);
    return (p->type == 'm' || p->type == 'p') && *v != '-' && rd_memtoull(v, &m);
}

/* 7.0's CONFIG SET p v [p v ...]: every name is looked up first (the first
 * unknown, immutable or repeated one is the error, named as typed), then
 * each value is checked and kept in turn: 7.0.15 keeps the ones before a
 * bad value ("timeout 5 maxmemory x" leaves timeout 5).  Bots set dir, dbfilename, save, appendonly, protected-mode,
 * slave-read-only, stop-writes-on-bgsave-error, rdbcompression, maxmemory. */
static void config_set_v7(struct hp_redis_sess *s, const struct hp_redis_cmd *c)
{
    char name[64], value[1024], norm[1100], why[256];
    const struct rd_param *ps[HP_REDIS_MAX_ARGS / 2];
    bool seen[HP_ARRAY_LEN(rd_params)] = {false};
    size_t n = 0;
    for (size_t i = 2; i + 1 < c->argc; i += 2, n++) {   /* each name looked up once: linear work */
        const struct rd_param *p = ps[n] = rd_param_find(rd_cstr(c->argv[i], c->argl[i], name, sizeof(name)));
        if (!p) {
            rep_err(s, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", name);
            return;
        }
        const char *e = p->type == 'x' ? "can't set immutable config" : seen[p - rd_params] ? "duplicate parameter"
                                                                                          : NULL;
        seen[p - rd_params] = true;
        if (e) {
            rep_err(s, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, e);
            return;
        }
    }
    for (size_t k = 0; k < n; k++) {
        const struct rd_param *p = ps[k];
        rd_cstr(c->argv[3 + 2 * k], c->argl[3 + 2 * k], value, sizeof(value));
        if (!rd_check_v7(s, p, value, norm, sizeof(norm))) {
            rd_why_v7(p, why, sizeof(why));
            if ((p->type == 'i' || p->type == 'm' || p->type == 'p') && !rd_is_number(p, value))
                rd_why_v7(&(struct rd_param){ .type = p->type }, why, sizeof(why));
            rep_err(s, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", p->name, why);
            return;
        }
        if (!rd_param_set(s, p, norm)) {
            rep_err(s, "ERR CONFIG SET failed (possibly related to argument '%s') - too many changes", p->name);
            return;
        }
    }
    rep_status(s, "OK");
}

static void config_set_one(struct hp_redis_sess *s, const char *name, const char *value, bool *failed)
{
    const struct rd_param *p = rd_param_find(name);
    char v[1024];
    if (!p || strcmp(p->name, "bind") == 0 || strcmp(p->name, "port") == 0 || strcmp(p->name, "databases") == 0 ||
        strcmp(p->name, "daemonize") == 0 || strcmp(p->name, "supervised") == 0 || strcmp(p->name, "pidfile") == 0 ||
        strcmp(p->name, "logfile") == 0 || strcmp(p->name, "unixsocket") == 0 || strncmp(p->name, "enable-", 7) == 0 ||
        strcmp(p->name, "io-threads") == 0 || strcmp(p->name, "io-threads-do-reads") == 0) {
        if (p && rd_ver_ge(7, 0))
            rep_err(s, "ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config", name);
        else if (rd_ver_ge(7, 0))
            rep_err(s, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", name);
        else
            rep_err(s, "ERR Unsupported CONFIG parameter: %s", name);
        *failed = true;
        return;
    }
    snprintf(v, sizeof(v), "%s", value);
    if (strcmp(p->name, "dir") == 0 && !config_dir(s, value, v, sizeof(v))) {
        if (rd_ver_ge(7, 0))
            rep_err(s, "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory");
        else
            rep_err(s, "ERR Changing directory: No such file or directory");
        *failed = true;
        return;
    }
    if (strcmp(p->name, "dbfilename") == 0 && (strchr(value, '/') || !*value)) {
        if (rd_ver_ge(7, 0))
            rep_err(s, "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be "
                       "a path, just a filename");
        else
            rep_err(s, "ERR Invalid argument '%s' for CONFIG SET 'dbfilename'", value);
        *failed = true;
        return;
    }
    if (!rd_param_set(s, p, v)) {
        rep_err(s, "ERR CONFIG SET failed (possibly related to argument '%s') - too many changes", name);
        *failed = true;
    }
}

static void cmd_config(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    bool v7 = rd_ver_ge(7, 0);
    if (rd_is(c, 1, "get") && (c->argc == 3 || (v7 && c->argc > 3))) {
        config_get(s, c);
    } else if (v7 && rd_is(c, 1, "set") && c->argc >= 4 && c->argc % 2 == 0) {
        config_set_v7(s, c);
    } else if (rd_is(c, 1, "set") && (c->argc == 4 || (v7 && c->argc > 4 && c->argc % 2 == 0))) {
        bool failed = false;
        for (size_t i = 2; i + 1 < c->argc && !failed; i += 2) {
            char name[64], value[1024];
            rd_cstr(c->argv[i], c->argl[i], name, sizeof(name));
            rd_cstr(c->argv[i + 1], c->argl[i + 1], value, sizeof(value));
            config_set_one(s, name, value, &failed);
        }
        if (!failed)
            rep_status(s, "OK");
    } else if ((rd_is(c, 1, "resetstat") || rd_is(c, 1, "rewrite")) && c->argc == 2) {
        rep_status(s, "OK");
    } else if (v7 && rd_is(c, 1, "set") && c->argc > 4) {    /* a name without its value */
        rep_err(s, "ERR syntax error");
    } else if (v7 && (rd_is(c, 1, "get") || rd_is(c, 1, "set"))) {
        rep_err(s, "ERR wrong number of arguments for 'config|%s' command", rd_is(c, 1, "get") ? "get" : "set");
    } else {
        rd_err_subcmd(s, c, "CONFIG", "get set resetstat rewrite");
    }
}

/* ---- keys -- */

/* A relative expire time as the server checks it: seconds that overflow in
 * milliseconds, or a deadline past LLONG_MAX from the wall clock, are
 * "invalid expire time" (no other cap: SET k v EX 9999999999999 is fine).
 * *rel_ms: the time in milliseconds, kept far from overflowing the
 * monotonic deadline it is added to. */
static bool rd_expire_rel(long long v, bool ms, long long *rel_ms)
{
    if (!ms && (v > LLONG_MAX / 1000 || v < LLONG_MIN / 1000))
        return false;
    long long m = ms ? v : v * 1000;
    long long now = hp_now_us() / 1000;
    if (m > 0 && m > LLONG_MAX - now)
        return false;
    *rel_ms = m > LLONG_MAX / 4 ? LLONG_MAX / 4 : m < -(LLONG_MAX / 4) ? -(LLONG_MAX / 4) : m;
    return true;
}

/* SET's expire options: EX PX (and 6.2's EXAT PXAT, absolute).  As the
 * server's parseExtendedStringArgumentsOrReply, one unit excludes the others
 * but not itself ("EX 10 EX 20" takes 20), and the options are all read
 * before the time is: "EX x FOO" is a syntax error. */
static int rd_set_unit(const struct hp_redis_cmd *c, size_t i)
{
    static const char *const units[] = {"ex", "px", "exat", "pxat"};
    for (int u = 0; u < 4; u++)
        if (rd_is(c, i, units[u]) && (u < 2 || rd_ver_ge(6, 2)))
            return u + 1;
    return 0;
}

/* The deadline of SET's expire argument (unit 1-4 as rd_set_unit); false
 * after the server's error reply. */
static bool rd_set_expire(struct hp_redis_sess *s, const struct hp_redis_cmd *c, size_t i, int unit,
                          int64_t *deadline)
{
    long long v, rel;
    bool ms = unit == 2 || unit == 4;
    if (!rd_getll(s, c, i, &v))
        return false;
    if (v <= 0 || (!ms && v > LLONG_MAX / 1000) || (unit <= 2 && !rd_expire_rel(v, ms, &rel))) {
        rep_err(s, "ERR invalid expire time in 'set' command");
        return false;
    }
    if (unit > 2) {                            /* a Unix time, maybe past: the key is gone at once */
        rel = (ms ? v : v * 1000) - hp_now_us() / 1000;
        rel = rel > LLONG_MAX / 4 ? LLONG_MAX / 4 : rel;
    }
    *deadline = hp_mono_ms() + rel;
    *deadline += *deadline == 0;               /* 0 is "no expiry" */
    return true;
}

static void cmd_set(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    bool nx = false, xx = false, get = false, keepttl = false;
    int unit = 0, u;
    size_t exp_i = 0;
    int64_t expire = 0;
    for (size_t i = 3; i < c->argc; i++) {
        if (rd_is(c, i, "nx") && !xx)
            nx = true;
        else if (rd_is(c, i, "xx") && !nx)
            xx = true;
        else if (rd_is(c, i, "get") && rd_ver_ge(6, 2))
            get = true;
        else if (rd_is(c, i, "keepttl") && rd_ver_ge(6, 0) && !unit)
            keepttl = true;
        else if ((u = rd_set_unit(c, i)) && i + 1 < c->argc && !keepttl && (!unit || unit == u)) {
            unit = u;
            exp_i = ++i;
        } else {
            rep_err(s, "ERR syntax error");
            return;
        }
    }
    if (unit && !rd_set_expire(s, c, exp_i, unit, &expire))
        return;
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    if (get) {
        if (k >= 0)
            rep_bulk(s, s->keys[k].val, s->keys[k].vlen);
        else
            rep_nil(s);
    }
    if ((nx && k >= 0) || (xx && k < 0)) {
        if (!get)
            rep_nil(s);
        return;
    }
    if (keepttl && k >= 0)
        expire = s->keys[k].expire_ms;
    rd_key_set(s, c->argv[1], c->argl[1], c->argv[2], c->argl[2], expire);
    if (!get)
        rep_status(s, "OK");
}

static void cmd_setnx(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    if (rd_key_find(s, c->argv[1], c->argl[1]) >= 0) {
        rep_int(s, 0);
        return;
    }
    rd_key_set(s, c->argv[1], c->argl[1], c->argv[2], c->argl[2], 0);
    rep_int(s, 1);
}

static void cmd_setex(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    long long v;
    if (!rd_getll(s, c, 2, &v))
        return;
    long long rel;
    if (v <= 0 || !rd_expire_rel(v, false, &rel)) {
        rep_err(s, "ERR invalid expire time in 'setex' command");
        return;
    }
    rd_key_set(s, c->argv[1], c->argl[1], c->argv[3], c->argl[3], hp_mono_ms() + rel);
    rep_status(s, "OK");
}

static void cmd_mset(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (c->argc % 2 == 0) {
        rd_err_arity(s, "mset");
        return;
    }
    for (size_t i = 1; i + 1 < c->argc; i += 2)
        rd_key_set(s, c->argv[i], c->argl[i], c->argv[i + 1], c->argl[i + 1], 0);
    rep_status(s, "OK");
}

static void cmd_get(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    if (k >= 0)
        rep_bulk(s, s->keys[k].val, s->keys[k].vlen);
    else
        rep_nil(s);
}

static void cmd_mget(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    rep_arr(s, c->argc - 1);
    for (size_t i = 1; i < c->argc; i++) {
        long k = rd_key_find(s, c->argv[i], c->argl[i]);
        if (k >= 0)
            rep_bulk(s, s->keys[k].val, s->keys[k].vlen);
        else
            rep_nil(s);
    }
}

/* Bytes of the old value mined again with an APPEND's: a URL split over
 * two APPENDs is still found (the SAVEd file is mined whole anyway). */
#define RD_APPEND_OVERLAP 4096

/* In place: copying and mining the whole value again on every APPEND made a
 * 12-byte "APPEND k x" cost milliseconds once the value was 2 MiB, with
 * megabytes of input left to repeat it. */
static void cmd_append(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    size_t old = k >= 0 ? s->keys[k].vlen : 0, add = c->argl[2];
    if (old + add > RD_MAX_KEYBYTES) {
        rep_err(s, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    if (k < 0) {
        rd_key_set(s, c->argv[1], c->argl[1], c->argv[2], add, 0);
        rep_int(s, (long long)add);
        return;
    }
    struct rd_key *key = &s->keys[k];
    s->dirty++;
    if (s->keybytes + add > RD_MAX_KEYBYTES) {
        rd_key_drop(s, (size_t)k);            /* past the connection's cap: not kept, as a refused SET */
        rep_int(s, (long long)(old + add));
        return;
    }
    if (old + add + 1 > key->cap) {
        size_t cap = key->cap * 2 > old + add + 1 ? key->cap * 2 : old + add + 1;
        if (cap > RD_MAX_KEYBYTES + 1)
            cap = RD_MAX_KEYBYTES + 1;
        uint8_t *v = realloc(key->val, cap);
        if (!v) {
            rep_err(s, "OOM command not allowed when used memory > 'maxmemory'.");
            return;
        }
        key->val = v;
        key->cap = cap;
    }
    memcpy(key->val + old, c->argv[2], add);
    key->vlen = old + add;
    key->val[key->vlen] = '\0';
    s->keybytes += add;
    size_t from = old > RD_APPEND_OVERLAP ? old - RD_APPEND_OVERLAP : 0;
    hp_capture_scan(s->ctx, key->val + from, key->vlen - from, "redis");
    rep_int(s, (long long)key->vlen);
}

static void cmd_strlen(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    rep_int(s, k >= 0 ? (long long)s->keys[k].vlen : 0);
}

static void cmd_del(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long long n = 0;
    for (size_t i = 1; i < c->argc; i++) {
        long k = rd_key_find(s, c->argv[i], c->argl[i]);
        if (k >= 0) {
            rd_key_drop(s, (size_t)k);
            n++;
        }
    }
    s->dirty += (uint64_t)n;
    rep_int(s, n);
}

static void cmd_exists(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long long n = 0;
    for (size_t i = 1; i < c->argc; i++)
        n += rd_key_find(s, c->argv[i], c->argl[i]) >= 0;
    rep_int(s, n);
}

static void rd_reply_matching(struct hp_redis_sess *s, const uint8_t *pat, size_t pl)
{
    size_t idx[RD_MAX_KEYS], n = 0;
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].db == s->db &&
            (!pat || rd_match(pat, pl, s->keys[i].name, s->keys[i].nlen, false, &s->match_budget)))
            idx[n++] = i;
    rep_arr(s, n);
    for (size_t i = 0; i < n; i++)
        rep_bulk(s, s->keys[idx[i]].name, s->keys[idx[i]].nlen);
}

static void cmd_keys(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    if (c->argl[1] > RD_MAX_PATTERN) {
        rep_arr(s, 0);
        return;
    }
    rd_reply_matching(s, c->argv[1], c->argl[1]);
}

/* The server's parseScanCursorOrReply(): strtoul() over the C string, so
 * "" and "+5" are cursors, "-1" is ULONG_MAX, a leading space, trailing
 * bytes or an overflow are not. */
static bool rd_scan_cursor(const uint8_t *p, size_t n)
{
    size_t i = 0, digits = 0;
    unsigned long long v = 0;
    if (n && isspace(p[0]))
        return false;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return false;                      /* ERANGE */
        v = v * 10 + d;
    }
    if (!digits)
        i = 0;                                 /* strtoul leaves eptr at the start */
    return i == n || p[i] == '\0';
}

static void cmd_scan(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    long long cnt;
    const uint8_t *pat = NULL;
    size_t pl = 0;
    if (!rd_scan_cursor(c->argv[1], c->argl[1])) {
        rep_err(s, "ERR invalid cursor");
        return;
    }
    for (size_t i = 2; i < c->argc; i += 2) {
        if (i + 1 >= c->argc) {
            rep_err(s, "ERR syntax error");
            return;
        }
        if (rd_is(c, i, "match")) {
            pat = c->argv[i + 1];
            pl = c->argl[i + 1] > RD_MAX_PATTERN ? RD_MAX_PATTERN : c->argl[i + 1];
        } else if (rd_is(c, i, "count")) {
            if (!rd_getll(s, c, i + 1, &cnt))
                return;
            if (cnt < 1) {
                rep_err(s, "ERR syntax error");
                return;
            }
        } else if (!(rd_is(c, i, "type") && rd_ver_ge(6, 0))) {
            rep_err(s, "ERR syntax error");
            return;
        }
    }
    rd_expire_due(s);
    rep_arr(s, 2);
    rep_bulks(s, "0");
    rd_reply_matching(s, pat, pl);
}

static void cmd_type(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    rep_status(s, rd_key_find(s, c->argv[1], c->argl[1]) >= 0 ? "string" : "none");
}

static void cmd_ttl(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    bool ms = rd_is(c, 0, "pttl");
    if (k < 0)
        rep_int(s, -2);
    else if (!s->keys[k].expire_ms)
        rep_int(s, -1);
    else {
        int64_t left = s->keys[k].expire_ms - hp_mono_ms();
        rep_int(s, ms ? left : (left + 500) / 1000);
    }
}

/* 7.0's EXPIRE options (NX XX GT LT), checked before the time as the
 * server does; a bit mask, or -1 after the error reply. */
enum { RD_EX_NX = 1, RD_EX_XX = 2, RD_EX_GT = 4, RD_EX_LT = 8 };

static int rd_expire_flags(struct hp_redis_sess *s, const struct hp_redis_cmd *c)
{
    int f = 0;
    for (size_t i = 3; i < c->argc; i++) {
        if (rd_is(c, i, "nx"))
            f |= RD_EX_NX;
        else if (rd_is(c, i, "xx"))
            f |= RD_EX_XX;
        else if (rd_is(c, i, "gt"))
            f |= RD_EX_GT;
        else if (rd_is(c, i, "lt"))
            f |= RD_EX_LT;
        else {
            char o[129];
            rep_err(s, "ERR Unsupported option %s", rd_cstr(c->argv[i], c->argl[i], o, sizeof(o)));
            return -1;
        }
    }
    if ((f & RD_EX_NX) && (f & (RD_EX_XX | RD_EX_GT | RD_EX_LT))) {
        rep_err(s, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((f & RD_EX_GT) && (f & RD_EX_LT)) {
        rep_err(s, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return f;
}

/* Whether the options let a key with that expiry (0: none) take when_ms. */
static bool rd_expire_allowed(int f, int64_t cur_ms, int64_t when_ms)
{
    if ((f & RD_EX_NX) && cur_ms)
        return false;
    if ((f & RD_EX_XX) && !cur_ms)
        return false;
    if ((f & RD_EX_GT) && (!cur_ms || when_ms <= cur_ms))   /* no expiry counts as infinite */
        return false;
    if ((f & RD_EX_LT) && cur_ms && when_ms >= cur_ms)
        return false;
    return true;
}

static void cmd_expire(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    long long v;
    int f = rd_expire_flags(s, c);
    if (f < 0 || !rd_getll(s, c, 2, &v))
        return;
    bool ms = rd_is(c, 0, "pexpire");
    long long rel;
    if (!rd_expire_rel(v, ms, &rel)) {
        if (rd_ver_ge(7, 0)) {                 /* 7.0 checks overflow before the key */
            rep_err(s, "ERR invalid expire time in '%s' command", ms ? "pexpire" : "expire");
            return;
        }
        rel = LLONG_MAX / 4;
    }
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    if (k < 0) {
        rep_int(s, 0);
        return;
    }
    int64_t when = hp_mono_ms() + rel;
    if (!rd_expire_allowed(f, s->keys[k].expire_ms, when)) {
        rep_int(s, 0);
        return;
    }
    if (v <= 0)
        rd_key_drop(s, (size_t)k);
    else
        s->keys[k].expire_ms = when;
    rep_int(s, 1);
}

static void cmd_persist(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    rep_int(s, k >= 0 && s->keys[k].expire_ms ? 1 : 0);
    if (k >= 0)
        s->keys[k].expire_ms = 0;
}

/* The value moves, it is not copied (nor mined again): RENAME of a 2 MiB
 * value is as cheap as the real server's. */
static void cmd_rename(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    long k = rd_key_find(s, c->argv[1], c->argl[1]);
    if (k < 0) {
        rep_err(s, "ERR no such key");
        return;
    }
    s->dirty++;
    if (c->argl[1] == c->argl[2] && memcmp(c->argv[1], c->argv[2], c->argl[1]) == 0) {
        rep_status(s, "OK");
        return;
    }
    long d = rd_key_find(s, c->argv[2], c->argl[2]);
    if (d >= 0) {
        rd_key_drop(s, (size_t)d);
        if (d < k)
            k--;
    }
    struct rd_key *key = &s->keys[k];
    size_t nlen = c->argl[2];
    if (nlen > RD_MAX_KEYNAME || s->keybytes - key->nlen + nlen > RD_MAX_KEYBYTES) {
        rd_key_drop(s, (size_t)k);            /* past the connection's caps: not kept */
    } else {
        uint8_t *name = hp_xcalloc(1, nlen + 1);
        memcpy(name, c->argv[2], nlen);
        s->keybytes = s->keybytes - key->nlen + nlen;
        free(key->name);
        key->name = name;
        key->nlen = nlen;
    }
    rep_status(s, "OK");
}

static void cmd_flushall(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (c->argc > 2 || (c->argc == 2 && !rd_is(c, 1, "async") && !(rd_is(c, 1, "sync") && rd_ver_ge(6, 2)))) {
        rep_err(s, "ERR syntax error");
        return;
    }
    bool all = rd_is(c, 0, "flushall");
    for (size_t i = s->nkeys; i-- > 0;)
        if (all || s->keys[i].db == s->db)
            rd_key_drop(s, i);
    s->dirty++;
    rep_status(s, "OK");
}

static void cmd_dbsize(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    rep_int(s, (long long)rd_db_keys(s, s->db, NULL));
}

static void cmd_randomkey(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_expire_due(s);
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].db == s->db) {
            rep_bulk(s, s->keys[i].name, s->keys[i].nlen);
            return;
        }
    rep_nil(s);
}

/* ---- persistence, replication, modules, scripts -- */

/* SAVE / BGSAVE: the file the attacker aimed at (DIR/DBFILENAME) is kept as
 * the values of the keys, in the order they were set - that is what matters
 * in the RDB a real server writes (cron lines, SSH keys between the binary
 * framing), and it hashes the same as what the attacker sent. */
static void rd_write_file(struct hp_redis_sess *s, const char *how)
{
    rd_expire_due(s);
    char path[1400];
    const char *dir = rd_dir(s), *fn = rd_dbfilename(s);
    snprintf(path, sizeof(path), "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", fn);
    struct hp_buf f;
    hp_buf_init(&f, RD_MAX_KEYBYTES);
    for (size_t i = 0; i < s->nkeys; i++)
        hp_buf_put(&f, s->keys[i].val, s->keys[i].vlen);
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    /* Each SAVE stores the whole keyspace again: "SET z 1", "SAVE" over 2 MiB
     * of values wrote 2 MiB of new payload per 18 bytes of input.  Past the
     * connection's budget the write is still reported, not stored. */
    bool store = f.len && f.len <= RD_SAVE_BYTES - s->saved_bytes;
    if (store) {
        s->saved_bytes += f.len;
        struct hp_upload_info u = {
            .data_dir = s->conf ? s->conf->data_dir : NULL,
            .filename = path,
            .filename_len = strlen(path),
            .detail = "redis",
            .size = f.len,
        };
        hp_upload_record(s->ctx, &u, f.data, f.len, sha);
    }
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "redis.file_write");
    hp_ev_str(&ev, "path", path);
    hp_ev_str(&ev, "dir", dir);
    hp_ev_str(&ev, "dbfilename", fn);
    hp_ev_str(&ev, "command", how);
    hp_ev_uint(&ev, "keys", s->nkeys);
    hp_ev_uint(&ev, "size", f.len);
    if (sha[0])
        hp_ev_str(&ev, "sha256", sha);
    if (f.len && !store)
        hp_ev_bool(&ev, "not_stored", true);
    hp_ev_emit(&ev);
    hp_buf_free(&f);
    s->dirty = 0;
    s->lastsave = hp_now_us() / 1000000;
}

static void cmd_save(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    bool bg = rd_is(c, 0, "bgsave");
    if (bg && c->argc == 2 && !rd_is(c, 1, "schedule")) {
        rep_err(s, "ERR syntax error");
        return;
    }
    rd_write_file(s, bg ? "bgsave" : "save");
    s->saves++;
    s->bgsaves += bg;
    if (bg)
        rep_status(s, "Background saving started");
    else
        rep_status(s, "OK");
}

/* SLAVEOF / REPLICAOF: logged, answered, never followed. */
static void cmd_replicaof(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    char host[256];
    rd_cstr(c->argv[1], c->argl[1], host, sizeof(host));
    if (rd_is(c, 1, "no") && rd_is(c, 2, "one")) {
        s->master_host[0] = '\0';
        rep_status(s, "OK");
        return;
    }
    long long port;
    bool ok = rd_str2ll(c->argv[2], c->argl[2], &port);
    s->rogue = true;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "redis.replicaof");
    hp_ev_str(&ev, "host", host);
    if (ok)
        hp_ev_int(&ev, "port", port);
    else
        hp_ev_bytes(&ev, "port_text", c->argv[2], c->argl[2]);
    hp_ev_str(&ev, "command", rd_is(c, 0, "slaveof") ? "slaveof" : "replicaof");
    hp_ev_emit(&ev);
    if (!ok) {
        rep_err(s, rd_ver_ge(7, 0) ? "ERR Invalid master port" : "ERR value is not an integer or out of range");
        return;
    }
    if (rd_ver_ge(7, 0) && (port < 0 || port > 65535)) {   /* 7.0 checks the range, older take any */
        rep_err(s, "ERR Invalid master port");
        return;
    }
    snprintf(s->master_host, sizeof(s->master_host), "%s", host);
    s->master_port = (long)port;
    rep_status(s, "OK");
}

/*
 * The rogue-master attack (redis-rogue-server, P2PInfect, H2Miner): SLAVEOF
 * the attacker's server, which sends RedisModules-ExecuteCommand's exp.so
 * as the "database"; CONFIG SET dbfilename exp.so; MODULE LOAD it; then
 * its commands: system.exec CMD returns what CMD prints (popen), system.rev
 * HOST PORT starts a reverse shell.  Nothing is replicated here, but after
 * a SLAVEOF the load is answered as if it had been, so the attacker sends
 * the commands it came for: system.exec goes through the emulated shell as
 * user redis (shell.h hp_shell_oneshot, never run), system.rev is answered
 * and never connects.  Without a SLAVEOF first, MODULE LOAD fails as it
 * does for a file that is not a module.
 */
static void cmd_module(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (rd_is(c, 1, "load") && c->argc >= 3) {
        bool load = s->rogue && !s->module;
        struct hp_ev ev;
        hp_ev_begin(&ev, s->ctx, "redis.module_load");
        hp_ev_bytes(&ev, "path", c->argv[2], c->argl[2]);
        hp_ev_arr_begin(&ev, "args");
        for (size_t i = 3; i < c->argc && i < 35; i++) {
            char a[256];
            hp_ev_elem_str(&ev, rd_cstr(c->argv[i], c->argl[i], a, sizeof(a)));
        }
        hp_ev_arr_end(&ev);
        hp_ev_bool(&ev, "loaded", load);
        hp_ev_emit(&ev);
        if (load) {
            s->module = true;
            rep_status(s, "OK");
        } else {
            rep_err(s, "ERR Error loading the extension. Please check the server logs.");
        }
    } else if (rd_is(c, 1, "list") && c->argc == 2) {
        rep_arr(s, s->module);
        if (s->module) {                        /* 7.0 adds path and args */
            rep_arr(s, rd_ver_ge(7, 0) ? 8 : 4);
            rep_bulks(s, "name");
            rep_bulks(s, "system");
            rep_bulks(s, "ver");
            rep_int(s, 1);
            if (rd_ver_ge(7, 0)) {
                rep_bulks(s, "path");
                rep_bulks(s, "./exp.so");
                rep_bulks(s, "args");
                rep_arr(s, 0);
            }
        }
    } else if (rd_is(c, 1, "unload") && c->argc == 3) {
        if (s->module && rd_is(c, 2, "system")) {
            s->module = false;
            rep_status(s, "OK");
        } else {
            rep_err(s, "ERR Error unloading module: no such module with that name");
        }
    } else {
        rd_err_subcmd(s, c, "MODULE", "list load unload");
    }
}

static void rd_sha1hex(const uint8_t *p, size_t n, char out[41])
{
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1(p, n, d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void rd_ev_script(struct hp_redis_sess *s, const char *how, const uint8_t *script, size_t slen,
                         const char *sha, long long numkeys)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "redis.eval");
    hp_ev_str(&ev, "command", how);
    if (script)
        hp_ev_bytes(&ev, "script", script, slen);
    hp_ev_str(&ev, "sha1", sha);
    if (numkeys >= 0)
        hp_ev_int(&ev, "numkeys", numkeys);
    /* CVE-2022-0543: Debian's and Ubuntu's Redis left package.loadlib in the
     * Lua sandbox; the public exploit loads liblua's io library through it. */
    if (script && (memmem(script, slen, "package.loadlib", 15) || memmem(script, slen, "luaopen_io", 10) ||
                   memmem(script, slen, "luaopen_os", 10))) {
        hp_ev_strings(&ev, "attack_classes", (const char *[]){ "rce" }, 1);
        hp_ev_strings(&ev, "cves", (const char *[]){ "CVE-2022-0543" }, 1);
    }
    hp_ev_emit(&ev);
}

/* EVAL: the usual payloads reach for the Lua globals the sandbox hides
 * (package.loadlib of CVE-2022-0543, io, os); those get the server's
 * error for a missing global, anything else a nil. */
static void cmd_eval(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    bool sha = rd_is(c, 0, "evalsha");
    long long nk;
    if (!rd_getll(s, c, 2, &nk))
        return;
    if (nk > (long long)c->argc - 3) {
        rep_err(s, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (nk < 0) {
        rep_err(s, "ERR Number of keys can't be negative");
        return;
    }
    char hex[41];
    if (sha)
        rd_cstr(c->argv[1], c->argl[1], hex, sizeof(hex));
    else
        rd_sha1hex(c->argv[1], c->argl[1], hex);
    rd_ev_script(s, sha ? "evalsha" : "eval", sha ? NULL : c->argv[1], c->argl[1], hex, nk);
    if (sha) {
        rep_err(s, "-NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    hp_capture_scan(s->ctx, c->argv[1], c->argl[1], "redis");
    static const char *const globals[] = {"package", "io", "os", "loadstring", "dofile", "require"};
    for (size_t g = 0; g < HP_ARRAY_LEN(globals); g++) {
        size_t gl = strlen(globals[g]);
        const uint8_t *p = c->argv[1];
        for (size_t i = 0; i + gl <= c->argl[1]; i++) {
            if (memcmp(p + i, globals[g], gl) != 0 || (i && (isalnum(p[i - 1]) || p[i - 1] == '_' || p[i - 1] == '.')) ||
                (i + gl < c->argl[1] && (isalnum(p[i + gl]) || p[i + gl] == '_')))
                continue;
            if (rd_ver_ge(7, 0))
                rep_err(s, "ERR user_script:1: Script attempted to access nonexistent global variable '%s' "
                           "script: %s, on @user_script:1.", globals[g], hex);
            else
                rep_err(s, "ERR Error running script (call to f_%s): @enable_strict_lua:15: user_script:1: "
                           "Script attempted to access nonexistent global variable '%s' ", hex, globals[g]);
            return;
        }
    }
    rep_nil(s);
}

static void cmd_script(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (rd_is(c, 1, "load") && c->argc == 3) {
        char hex[41];
        rd_sha1hex(c->argv[2], c->argl[2], hex);
        rd_ev_script(s, "script load", c->argv[2], c->argl[2], hex, -1);
        hp_capture_scan(s->ctx, c->argv[2], c->argl[2], "redis");
        rep_bulks(s, hex);
    } else if (rd_is(c, 1, "exists") && c->argc >= 3) {
        rep_arr(s, c->argc - 2);
        for (size_t i = 2; i < c->argc; i++)
            rep_int(s, 0);
    } else if (rd_is(c, 1, "flush") && c->argc == 3 && rd_ver_ge(6, 2) && !rd_is(c, 2, "sync") &&
               !rd_is(c, 2, "async")) {
        rep_err(s, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    } else if ((rd_is(c, 1, "flush") || rd_is(c, 1, "kill")) && c->argc <= 3) {
        if (rd_is(c, 1, "kill"))
            rep_err(s, "-NOTBUSY No scripts in execution right now.");
        else
            rep_status(s, "OK");
    } else {
        rd_err_subcmd(s, c, "SCRIPT", "load exists");
    }
}

/* SHUTDOWN: a real server that cannot write its RDB on the way down says
 * this and stays up - which is what we do. */
/* SHUTDOWN's options: 7.0 takes NOSAVE SAVE NOW FORCE ABORT, older
 * releases one of NOSAVE or SAVE; anything else is a syntax error. */
static bool rd_shutdown_opts_ok(const struct hp_redis_cmd *c)
{
    bool v7 = rd_ver_ge(7, 0);
    if (!v7 && c->argc > 2)
        return false;
    for (size_t i = 1; i < c->argc; i++)
        if (!rd_is(c, i, "nosave") && !rd_is(c, i, "save") &&
            !(v7 && (rd_is(c, i, "now") || rd_is(c, i, "force") || rd_is(c, i, "abort"))))
            return false;
    return true;
}

static void cmd_shutdown(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (!rd_shutdown_opts_ok(c)) {
        rep_err(s, "ERR syntax error");
        return;
    }
    rep_err(s, "ERR Errors trying to SHUTDOWN. Check logs.");
}

static void cmd_quit(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rep_status(s, "OK");
    s->close = true;
}

/* ---- connection and server commands -- */

/* cmd: the 7.0 name of the running command (client|list or client|info) */
static void rd_client_line(struct hp_redis_sess *s, struct hp_buf *b, const char *cmd)
{
    char addr[80], laddr[80];
    if (s->ctx && s->ctx->src_ip[0]) {
        snprintf(addr, sizeof(addr), "%s:%u", s->ctx->src_ip, s->ctx->src_port);
        snprintf(laddr, sizeof(laddr), "%s:%u", s->ctx->dst_ip, s->ctx->dst_port);
    } else {
        snprintf(addr, sizeof(addr), "%s", s->peer);
        snprintf(laddr, sizeof(laddr), "127.0.0.1:%u", s->conf && s->conf->port ? s->conf->port : 6379);
    }
    int64_t age = (hp_mono_ms() - s->start_ms) / 1000;
    hp_buf_printf(b, "id=%" PRIu64 " addr=%s ", s->id, addr);
    if (rd_ver_ge(6, 2))
        hp_buf_printf(b, "laddr=%s ", laddr);
    hp_buf_printf(b, "fd=8 name=%s age=%" PRId64 " idle=0 flags=N db=%d sub=0 psub=0 ", s->name, age, s->db);
    if (rd_ver_ge(7, 0))
        hp_buf_puts(b, "ssub=0 ");
    hp_buf_puts(b, "multi=-1 qbuf=26 qbuf-free=20448 ");
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, "argv-mem=10 ");
    if (rd_ver_ge(7, 0))
        hp_buf_puts(b, "multi-mem=0 rbs=1024 rbp=0 ");
    hp_buf_puts(b, "obl=0 oll=0 omem=0 ");
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, "tot-mem=22298 ");
    hp_buf_printf(b, "events=r cmd=%s", rd_ver_ge(7, 0) ? cmd : "client");
    if (rd_ver_ge(6, 0))
        hp_buf_puts(b, " user=default");
    if (rd_ver_ge(6, 2))
        hp_buf_puts(b, " redir=-1");
    if (rd_ver_ge(7, 0))
        hp_buf_puts(b, " resp=2");
    hp_buf_puts(b, "\n");
}

/* A client name CLIENT SETNAME and HELLO SETNAME accept; replies if not. */
static bool rd_name_ok(struct hp_redis_sess *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] > '~') {
            rep_err(s, "ERR Client names cannot contain spaces, newlines or special characters.");
            return false;
        }
    return true;
}

static void cmd_client(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (rd_is(c, 1, "list") && c->argc == 3 && rd_ver_ge(7, 0)) {   /* neither TYPE t nor ID ... */
        rep_err(s, "ERR syntax error");
    } else if ((rd_is(c, 1, "list") && c->argc <= 4) || (rd_is(c, 1, "info") && c->argc == 2 && rd_ver_ge(6, 2))) {
        struct hp_buf b;
        hp_buf_init(&b, 2048);
        rd_client_line(s, &b, rd_is(c, 1, "info") ? "client|info" : "client|list");
        rep_bulk(s, b.data, b.len);
        hp_buf_free(&b);
    } else if (rd_is(c, 1, "id") && c->argc == 2) {
        rep_int(s, (long long)s->id);
    } else if (rd_is(c, 1, "getname") && c->argc == 2) {
        if (s->name[0])
            rep_bulks(s, s->name);
        else
            rep_nil(s);
    } else if (rd_is(c, 1, "setname") && c->argc == 3) {
        if (!rd_name_ok(s, c->argv[2], c->argl[2]))
            return;
        rd_cstr(c->argv[2], c->argl[2], s->name, sizeof(s->name));
        rep_status(s, "OK");
    } else if (rd_is(c, 1, "kill") && c->argc >= 3) {
        rep_err(s, "ERR No such client");
    } else if (rd_is(c, 1, "pause") && c->argc > 4 && rd_ver_ge(7, 0)) {
        rd_err_subsyntax(s, c, "CLIENT");            /* past its arity check, refused by the handler */
    } else if (rd_is(c, 1, "pause") && (c->argc == 3 || (c->argc == 4 && rd_ver_ge(6, 2)))) {
        long long ms;                               /* the server's getTimeoutFromObjectOrReply */
        if (c->argc == 4 && !rd_is(c, 3, "write") && !rd_is(c, 3, "all"))   /* 6.2's mode, checked first */
            rep_err(s, "ERR CLIENT PAUSE mode must be WRITE or ALL");
        else if (!rd_str2ll(c->argv[2], c->argl[2], &ms))
            rep_err(s, "ERR timeout is not an integer or out of range");
        else if (ms < 0)
            rep_err(s, "ERR timeout is negative");
        else
            rep_status(s, "OK");
    } else if (rd_is(c, 1, "no-evict") && rd_ver_ge(7, 0) && c->argc == 3) {
        if (rd_is(c, 2, "on") || rd_is(c, 2, "off"))
            rep_status(s, "OK");
        else
            rep_err(s, "ERR syntax error");
    } else if ((rd_is(c, 1, "reply") && c->argc >= 3) || (rd_is(c, 1, "unpause") && rd_ver_ge(6, 2))) {
        rep_status(s, "OK");
    } else {
        rd_err_subcmd(s, c, "CLIENT", "list info id getname setname kill reply pause unpause no-evict");
    }
}

static void cmd_hello(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    long long ver = 2;
    if (c->argc >= 2 && (!rd_str2ll(c->argv[1], c->argl[1], &ver) || (ver < 0 && !rd_ver_ge(7, 0)))) {
        rep_err(s, "ERR Protocol version is not an integer or out of range");
        return;
    }
    if (rd_ver_ge(7, 0) && (ver < 2 || ver > 3)) {   /* 7.0 refuses the version before the options */
        rep_err(s, "-NOPROTO unsupported protocol version");
        return;
    }
    for (size_t i = 2; i < c->argc; i++) {
        if (rd_is(c, i, "auth") && i + 2 < c->argc) {
            if (!rd_check_auth(s, c->argv[i + 1], c->argl[i + 1], c->argv[i + 2], c->argl[i + 2], "hello"))
                return;
            i += 2;
        } else if (rd_is(c, i, "setname") && i + 1 < c->argc) {
            if (!rd_name_ok(s, c->argv[i + 1], c->argl[i + 1]))
                return;
            rd_cstr(c->argv[i + 1], c->argl[i + 1], s->name, sizeof(s->name));
            i++;
        } else {
            rep_err(s, "ERR Syntax error in HELLO option '%.*s'", (int)(c->argl[i] > 64 ? 64 : c->argl[i]),
                    (const char *)c->argv[i]);
            return;
        }
    }
    if (!s->authed) {
        rep_err(s, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
                   "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
                   "version at the same time");
        return;
    }
    if (ver != 2) {                      /* RESP3 is not emulated */
        rep_err(s, rd_ver_ge(7, 0) ? "-NOPROTO unsupported protocol version"
                                   : "-NOPROTO sorry, this protocol version is not supported");
        return;
    }
    rep_arr(s, 14);
    rep_bulks(s, "server");
    rep_bulks(s, "redis");
    rep_bulks(s, "version");
    rep_bulks(s, rd_id.version);
    rep_bulks(s, "proto");
    rep_int(s, 2);
    rep_bulks(s, "id");
    rep_int(s, (long long)s->id);
    rep_bulks(s, "mode");
    rep_bulks(s, "standalone");
    rep_bulks(s, "role");
    rep_bulks(s, s->master_host[0] ? "replica" : "master");
    rep_bulks(s, "modules");
    rep_arr(s, 0);
}

static void cmd_time(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    char a[24], b[24];
    int64_t now = hp_now_us();
    snprintf(a, sizeof(a), "%" PRId64, now / 1000000);
    snprintf(b, sizeof(b), "%" PRId64, now % 1000000);
    rep_arr(s, 2);
    rep_bulks(s, a);
    rep_bulks(s, b);
}

static void cmd_lastsave(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rep_int(s, s->lastsave);
}

static void cmd_role(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (s->master_host[0]) {
        rep_arr(s, 5);
        rep_bulks(s, "slave");
        rep_bulks(s, s->master_host);
        rep_int(s, s->master_port);
        rep_bulks(s, "connect");
        rep_int(s, -1);
    } else {
        rep_arr(s, 3);
        rep_bulks(s, "master");
        rep_int(s, 0);
        rep_arr(s, 0);
    }
}

static void cmd_acl(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (rd_is(c, 1, "whoami") && c->argc == 2) {
        rep_bulks(s, "default");
    } else if (rd_is(c, 1, "users") && c->argc == 2) {
        rep_arr(s, 1);
        rep_bulks(s, "default");
    } else if (rd_is(c, 1, "list") && c->argc == 2) {
        char line[160];
        const char *pw = s->conf && s->conf->requirepass ? "#<hidden>" : "nopass";
        snprintf(line, sizeof(line), "user default on %s ~*%s +@all", pw, rd_ver_ge(6, 2) ? " &*" : "");
        rep_arr(s, 1);
        rep_bulks(s, line);
    } else {
        rd_err_subcmd(s, c, "ACL", "whoami users list");
    }
}

static void cmd_debug(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (rd_ver_ge(7, 0))
        rep_err(s, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can "
                   "run it from a local connection, otherwise you need to set this option in the configuration "
                   "file, and then restart the server.");
    else if (rd_is(c, 1, "sleep") || rd_is(c, 1, "set-active-expire"))
        rep_status(s, "OK");
    else
        rd_err_subcmd(s, c, "DEBUG", NULL);
}

static void cmd_generic(struct hp_redis_sess *s, struct hp_redis_cmd *c);
static void cmd_command(struct hp_redis_sess *s, struct hp_redis_cmd *c);

/* ---- the command table -- */

struct rd_cmd {
    const char *name;
    int arity;                        /* >0 exact, <0 at least -arity */
    rd_fn *fn;                        /* NULL: a canned reply (generic) */
    const char *flags;                /* COMMAND's flags */
    int fk, lk, step;                 /* COMMAND's key positions */
    int since;                        /* major*10+minor */
    char generic;                     /* canned reply: O +OK, 0/1 :n, E empty array, N nil, M/D no MULTI */
    int arity_old;                    /* the arity before 7.0 where it differs (0: the same) */
};

#define RD_NOAUTH "noauth"

static const struct rd_cmd rd_cmds[] = {
    {"ping", -1, cmd_ping, "stale fast", 0, 0, 0, 0, 0},
    {"echo", 2, cmd_echo, "fast", 0, 0, 0, 0, 0},
    {"auth", -2, cmd_auth, "noscript loading stale fast " RD_NOAUTH, 0, 0, 0, 0, 0},
    {"hello", -1, cmd_hello, "noscript loading stale fast " RD_NOAUTH, 0, 0, 0, 60, 0},
    {"quit", -1, cmd_quit, "loading stale fast " RD_NOAUTH, 0, 0, 0, 0, 0},
    {"select", 2, cmd_select, "loading stale fast", 0, 0, 0, 0, 0},
    {"info", -1, cmd_info, "random loading stale", 0, 0, 0, 0, 0},
    {"config", -2, cmd_config, "admin noscript loading stale", 0, 0, 0, 0, 0},
    {"set", -3, cmd_set, "write denyoom", 1, 1, 1, 0, 0},
    {"setnx", 3, cmd_setnx, "write denyoom fast", 1, 1, 1, 0, 0},
    {"setex", 4, cmd_setex, "write denyoom", 1, 1, 1, 0, 0},
    {"mset", -3, cmd_mset, "write denyoom", 1, -1, 2, 0, 0},
    {"get", 2, cmd_get, "readonly fast", 1, 1, 1, 0, 0},
    {"mget", -2, cmd_mget, "readonly fast", 1, -1, 1, 0, 0},
    {"append", 3, cmd_append, "write denyoom fast", 1, 1, 1, 0, 0},
    {"strlen", 2, cmd_strlen, "readonly fast", 1, 1, 1, 0, 0},
    {"del", -2, cmd_del, "write", 1, -1, 1, 0, 0},
    {"unlink", -2, cmd_del, "write fast", 1, -1, 1, 0, 0},
    {"exists", -2, cmd_exists, "readonly fast", 1, -1, 1, 0, 0},
    {"keys", 2, cmd_keys, "readonly sort_for_script", 0, 0, 0, 0, 0},
    {"scan", -2, cmd_scan, "readonly random", 0, 0, 0, 0, 0},
    {"type", 2, cmd_type, "readonly fast", 1, 1, 1, 0, 0},
    {"ttl", 2, cmd_ttl, "readonly random fast", 1, 1, 1, 0, 0},
    {"pttl", 2, cmd_ttl, "readonly random fast", 1, 1, 1, 0, 0},
    {"expire", -3, cmd_expire, "write fast", 1, 1, 1, 0, 0, 3},   /* 7.0: NX XX GT LT */
    {"pexpire", -3, cmd_expire, "write fast", 1, 1, 1, 0, 0, 3},
    {"persist", 2, cmd_persist, "write fast", 1, 1, 1, 0, 0},
    {"rename", 3, cmd_rename, "write", 1, 2, 1, 0, 0},
    {"randomkey", 1, cmd_randomkey, "readonly random", 0, 0, 0, 0, 0},
    {"flushall", -1, cmd_flushall, "write", 0, 0, 0, 0, 0},
    {"flushdb", -1, cmd_flushall, "write", 0, 0, 0, 0, 0},
    {"dbsize", 1, cmd_dbsize, "readonly fast", 0, 0, 0, 0, 0},
    {"save", 1, cmd_save, "admin noscript", 0, 0, 0, 0, 0},
    {"bgsave", -1, cmd_save, "admin noscript", 0, 0, 0, 0, 0},
    {"lastsave", 1, cmd_lastsave, "random fast", 0, 0, 0, 0, 0},
    {"slaveof", 3, cmd_replicaof, "admin noscript stale", 0, 0, 0, 0, 0},
    {"replicaof", 3, cmd_replicaof, "admin noscript stale", 0, 0, 0, 50, 0},
    {"role", 1, cmd_role, "noscript loading stale fast", 0, 0, 0, 0, 0},
    {"module", -2, cmd_module, "admin noscript", 0, 0, 0, 0, 0},
    {"eval", -3, cmd_eval, "noscript", 0, 0, 0, 0, 0},
    {"evalsha", -3, cmd_eval, "noscript", 0, 0, 0, 0, 0},
    {"script", -2, cmd_script, "noscript", 0, 0, 0, 0, 0},
    {"shutdown", -1, cmd_shutdown, "admin noscript loading stale", 0, 0, 0, 0, 0},
    {"client", -2, cmd_client, "admin noscript random loading stale", 0, 0, 0, 0, 0},
    {"command", -1, cmd_command, "random loading stale", 0, 0, 0, 0, 0},
    {"time", 1, cmd_time, "random loading stale fast", 0, 0, 0, 0, 0},
    {"acl", -2, cmd_acl, "admin noscript loading stale", 0, 0, 0, 60, 0},
    {"debug", -2, cmd_debug, "admin noscript loading stale", 0, 0, 0, 0, 0},
    {"incr", 2, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"decr", 2, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"lpush", -3, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"rpush", -3, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"sadd", -3, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"zadd", -4, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"hset", -4, cmd_generic, "write denyoom fast", 1, 1, 1, 0, '1'},
    {"hmset", -4, cmd_generic, "write denyoom fast", 1, 1, 1, 0, 'O'},
    {"lrange", 4, cmd_generic, "readonly", 1, 1, 1, 0, 'E'},
    {"smembers", 2, cmd_generic, "readonly sort_for_script", 1, 1, 1, 0, 'E'},
    {"hgetall", 2, cmd_generic, "readonly random", 1, 1, 1, 0, 'E'},
    {"zrange", -4, cmd_generic, "readonly", 1, 1, 1, 0, 'E'},
    {"hget", 3, cmd_generic, "readonly fast", 1, 1, 1, 0, 'N'},
    {"lpop", -2, cmd_generic, "write fast", 1, 1, 1, 0, 'N'},
    {"rpop", -2, cmd_generic, "write fast", 1, 1, 1, 0, 'N'},
    {"llen", 2, cmd_generic, "readonly fast", 1, 1, 1, 0, '0'},
    {"scard", 2, cmd_generic, "readonly fast", 1, 1, 1, 0, '0'},
    {"hlen", 2, cmd_generic, "readonly fast", 1, 1, 1, 0, '0'},
    {"publish", 3, cmd_generic, "pubsub loading stale fast", 0, 0, 0, 0, '0'},
    {"wait", 3, cmd_generic, "noscript", 0, 0, 0, 0, '0'},
    {"move", 3, cmd_generic, "write fast", 1, 1, 1, 0, '0'},
    {"multi", 1, cmd_generic, "noscript loading stale fast", 0, 0, 0, 0, 'O'},
    {"exec", 1, cmd_generic, "noscript loading stale skip_slowlog", 0, 0, 0, 0, 'M'},
    {"discard", 1, cmd_generic, "noscript loading stale fast", 0, 0, 0, 0, 'D'},
    {"watch", -2, cmd_generic, "noscript loading stale fast", 1, -1, 1, 0, 'O'},
    {"unwatch", 1, cmd_generic, "noscript loading stale fast", 0, 0, 0, 0, 'O'},
    {"swapdb", 3, cmd_generic, "write fast", 0, 0, 0, 0, 'O'},
    {"bgrewriteaof", 1, cmd_generic, "admin noscript", 0, 0, 0, 0, 'A'},
    {"slowlog", -2, cmd_generic, "admin random loading stale", 0, 0, 0, 0, 'E'},
    {"latency", -2, cmd_generic, "admin noscript loading stale", 0, 0, 0, 0, 'E'},
    {"monitor", 1, cmd_generic, "admin noscript loading stale", 0, 0, 0, 0, 'O'},
};

static int rd_arity(const struct rd_cmd *k)
{
    return k->arity_old && !rd_ver_ge(7, 0) ? k->arity_old : k->arity;
}

static const struct rd_cmd *rd_cmd_lookup(const uint8_t *p, size_t n)
{
    char name[32];
    if (n >= sizeof(name))
        return NULL;
    rd_cstr(p, n, name, sizeof(name));
    if (strlen(name) != n)
        return NULL;
    for (size_t i = 0; i < HP_ARRAY_LEN(rd_cmds); i++)
        if (strcasecmp(rd_cmds[i].name, name) == 0 && rd_cmds[i].since <= rd_vnum())
            return &rd_cmds[i];
    return NULL;
}

static const struct rd_cmd *rd_cmd_find(const struct hp_redis_cmd *c)
{
    return rd_cmd_lookup(c->argv[0], c->argl[0]);
}

static void cmd_generic(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    const struct rd_cmd *k = rd_cmd_find(c);
    switch (k ? k->generic : 'O') {
    case '0': rep_int(s, 0); break;
    case '1': rep_int(s, 1); break;
    case 'E': rep_arr(s, 0); break;
    case 'N': rep_nil(s); break;
    case 'M': rep_err(s, "ERR EXEC without MULTI"); break;
    case 'D': rep_err(s, "ERR DISCARD without MULTI"); break;
    case 'A': rep_status(s, "Background append only file rewriting started"); break;
    default: rep_status(s, "OK"); break;
    }
}

static void rd_command_entry(struct hp_redis_sess *s, const struct rd_cmd *k)
{
    char fl[128];
    const char *w[12];
    size_t nw = 0;
    snprintf(fl, sizeof(fl), "%s", k->flags);
    char *save = NULL;
    for (char *t = strtok_r(fl, " ", &save); t && nw < HP_ARRAY_LEN(w); t = strtok_r(NULL, " ", &save))
        if (strcmp(t, RD_NOAUTH) != 0 || rd_ver_ge(6, 0))
            w[nw++] = t;
    size_t n = rd_ver_ge(7, 0) ? 10 : rd_ver_ge(6, 0) ? 7 : 6;
    rep_arr(s, n);
    rep_bulks(s, k->name);
    rep_int(s, rd_arity(k));
    rep_arr(s, nw);
    for (size_t i = 0; i < nw; i++)
        hp_buf_printf(s->out, "+%s\r\n", w[i]);
    rep_int(s, k->fk);
    rep_int(s, k->lk);
    rep_int(s, k->step);
    if (n >= 7) {
        const char *cat = strstr(k->flags, "admin") ? "@admin" : strstr(k->flags, "write") ? "@write"
                        : strstr(k->flags, "readonly") ? "@read" : "@connection";
        rep_arr(s, 1);
        hp_buf_printf(s->out, "+%s\r\n", cat);
    }
    if (n == 10) {
        rep_arr(s, 0);
        rep_arr(s, 0);
        rep_arr(s, 0);
    }
}

static void cmd_command(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    if (c->argc == 1) {
        size_t n = 0;
        for (size_t i = 0; i < HP_ARRAY_LEN(rd_cmds); i++)
            n += rd_cmds[i].since <= rd_vnum();
        rep_arr(s, n);
        for (size_t i = 0; i < HP_ARRAY_LEN(rd_cmds); i++)
            if (rd_cmds[i].since <= rd_vnum())
                rd_command_entry(s, &rd_cmds[i]);
    } else if (rd_is(c, 1, "count") && c->argc == 2) {
        rep_int(s, rd_ver_ge(7, 0) ? 240 : rd_ver_ge(6, 2) ? 224 : rd_ver_ge(6, 0) ? 204 : 200);
    } else if (rd_is(c, 1, "info") && (c->argc >= 3 || rd_ver_ge(7, 0))) {
        rep_arr(s, c->argc - 2);
        for (size_t i = 2; i < c->argc; i++) {
            const struct rd_cmd *k = rd_cmd_lookup(c->argv[i], c->argl[i]);
            if (k)
                rd_command_entry(s, k);
            else                         /* 7.0 answers a null bulk, older a null array */
                rep_raw(s, rd_ver_ge(7, 0) ? "$-1\r\n" : "*-1\r\n");
        }
    } else if (rd_is(c, 1, "docs") && rd_ver_ge(7, 0)) {
        rep_arr(s, 0);
    } else {
        rd_err_subcmd(s, c, "COMMAND", "count");
    }
}

/* ---- running a command -- */

/* system.exec / system.rev of the loaded exp.so (cmd_module); false for another command. */
static bool rd_module_cmd(struct hp_redis_sess *s, const struct hp_redis_cmd *c)
{
    if (!s->module)
        return false;
    if (rd_is(c, 0, "system.exec")) {
        if (c->argc != 2) {
            rd_err_arity(s, "system.exec");
            return true;
        }
        hp_capture_scan(s->ctx, c->argv[1], c->argl[1], "redis");   /* the dropper's URLs */
        struct hp_buf out;
        hp_buf_init(&out, HP_SHELL_ONESHOT_OUT);
        if (hp_shell_oneshot_allowed()) {
            char daemon[48];
            snprintf(daemon, sizeof(daemon), "/usr/bin/redis-server *:%u", (unsigned)s->ctx->dst_port);
            struct hp_shell_oneshot o = { .user = "redis", .cwd = "/var/lib/redis", .daemon = daemon };
            hp_shell_oneshot(&o, (const char *)c->argv[1], c->argl[1], &out);
        }
        rep_bulk(s, out.data ? out.data : (const uint8_t *)"", out.len);
        hp_buf_free(&out);
        return true;
    }
    if (rd_is(c, 0, "system.rev")) {
        if (c->argc != 3)
            rd_err_arity(s, "system.rev");
        else
            rep_status(s, "OK");                /* the shell would connect back: never */
        return true;
    }
    return false;
}

static void rd_unknown(struct hp_redis_sess *s, const struct hp_redis_cmd *c)
{
    char name[129], args[512], a[200];
    size_t al = 0;
    bool v7 = rd_ver_ge(7, 0);
    rd_cstr(c->argv[0], c->argl[0], name, sizeof(name));
    args[0] = '\0';
    for (size_t i = 1; i < c->argc && al < 128; i++) {
        rd_cstr(c->argv[i], c->argl[i], a, 128 - al + 1);
        int w = snprintf(args + al, sizeof(args) - al, v7 ? "'%s' " : "`%s`, ", a);
        if (w < 0 || (size_t)w >= sizeof(args) - al)
            break;
        al += (size_t)w;
    }
    if (v7)
        rep_err(s, "ERR unknown command '%s', with args beginning with: %s", name, args);
    else
        rep_err(s, "ERR unknown command `%s`, with args beginning with: %s", name, args);
}

static void rd_exec(struct hp_redis_sess *s, struct hp_redis_cmd *c)
{
    rd_id.cmds++;
    rd_ev_input(s, c);
    const struct rd_cmd *k = rd_cmd_find(c);
    if (!k) {
        if (!rd_module_cmd(s, c))
            rd_unknown(s, c);
        return;
    }
    int ar = rd_arity(k);
    if ((ar > 0 && c->argc != (size_t)ar) || (ar < 0 && c->argc < (size_t)-ar)) {
        rd_err_arity(s, k->name);
        return;
    }
    if (!s->authed && !strstr(k->flags, RD_NOAUTH)) {
        rep_err(s, "-NOAUTH Authentication required.");
        return;
    }
    k->fn(s, c);
}

/* A NUL before the line end stalls the connection as it does the server's
 * (rd_line_end); what is stuck is logged once, as a command.input marked
 * incomplete (its first 4 KiB), so that it is not lost when the client
 * gives up. */
static void rd_ev_stalled(struct hp_redis_sess *s, const struct hp_rd *in)
{
    if (s->stall_logged || !s->cmd.part.nul)
        return;
    s->stall_logged = true;
    size_t n = hp_rd_left(in) < 4096 ? hp_rd_left(in) : 4096;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", hp_rd_ptr(in), n);
    hp_ev_bool(&ev, "incomplete", true);
    hp_ev_int(&ev, "database", s->db);
    hp_ev_emit(&ev);
}

bool hp_redis_feed(struct hp_redis_sess *s, struct hp_rd *in, struct hp_buf *out)
{
    s->out = out;
    while (!s->close) {
        char err[128];
        struct hp_rd probe = *in;
        int rc = hp_redis_parse_next(&probe, &s->cmd, err, sizeof(err));
        if (rc == 0) {
            rd_ev_stalled(s, in);
            break;
        }
        if (rc < 0) {
            rep_err(s, "ERR %s", err);
            s->close = true;
            s->close_reason = "protocol_error";
            break;
        }
        if (s->cmd.argc)
            rd_exec(s, &s->cmd);
        *in = probe;
    }
    return s->close;
}

/* ---- the protocol module ------------------------------------------------------------ */

struct rd_conn {
    struct hp_redis_sess *s;
};

static int rd_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct hp_redis_conf *rc = hp_xcalloc(1, sizeof(*rc));
    svc->proto_conf = rc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int maj, min;
        if (strcmp(kv->key, "version") == 0) {
            if (rd_parse_version(kv->value, &maj, &min) != 0 || maj < 5 || maj > 7) {
                snprintf(err, errlen, "%d: [service %s]: bad value for version: '%s' (5.x.y to 7.x.y)",
                         kv->line, svc->name, kv->value);
                return -1;
            }
            free(rc->version);
            rc->version = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "requirepass") == 0) {
            free(rc->requirepass);
            rc->requirepass = *kv->value ? hp_xstrdup(kv->value) : NULL;
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol redis)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    rc->port = svc->ntcp ? svc->tcp_ports[0] : 6379;
    return 0;
}

static void rd_unconfigure(struct hp_service_cfg *svc)
{
    struct hp_redis_conf *rc = svc->proto_conf;
    if (rc) {
        free(rc->version);
        free(rc->requirepass);
        free(rc->data_dir);
    }
    free(rc);
    svc->proto_conf = NULL;
}

static int rd_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct hp_redis_conf *rc = svc->proto_conf;
    if (!rc->data_dir && cfg->data_dir)
        rc->data_dir = hp_xstrdup(cfg->data_dir);
    rd_identity_init(rc->version);    /* drawn now: the identity file shows it from the start */
    return 0;
}

static void rd_accept(struct hp_conn *c)
{
    struct rd_conn *rc = c->pstate;
    char peer[80];
    snprintf(peer, sizeof(peer), "%s:%u", c->ctx.src_ip, c->ctx.src_port);
    rc->s = hp_redis_sess_new(hp_conn_service_cfg(c)->proto_conf, &c->ctx, peer);
}

static void rd_data(struct hp_conn *c, struct hp_rd *in)
{
    struct rd_conn *rc = c->pstate;
    if (!rc->s)
        return;
    struct hp_buf out;
    hp_buf_init(&out, RD_OUT_MAX);
    bool close = hp_redis_feed(rc->s, in, &out);
    if (!hp_buf_ok(&out)) {
        hp_conn_close(c, "output_overflow");
    } else {
        if (out.len)
            hp_conn_send(c, out.data, out.len);
        if (close)
            hp_conn_close(c, rc->s->close_reason ? rc->s->close_reason : "quit");
    }
    hp_buf_free(&out);
}

static void rd_eof(struct hp_conn *c)
{
    hp_conn_close(c, "eof");
}

static void rd_close(struct hp_conn *c)
{
    struct rd_conn *rc = c->pstate;
    hp_redis_sess_free(rc->s);
    rc->s = NULL;
}

const struct hp_proto hp_proto_redis = {
    .name = "redis",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "6379",
    .conn_state_size = sizeof(struct rd_conn),
    .default_max_input = 8 * 1024 * 1024,
    .configure = rd_configure,
    .unconfigure = rd_unconfigure,
    .start = rd_start,
    .on_accept = rd_accept,
    .on_data = rd_data,
    .on_eof = rd_eof,
    .on_close = rd_close,
};
