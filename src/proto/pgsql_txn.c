/*
 * pgsql_txn.c - transaction blocks of the PostgreSQL look-alike: the status
 * byte of ReadyForQuery and the statements that open and close a block.
 *
 * A real server tells the client after every query whether it is idle
 * ('I'), inside a block ('T') or inside a failed one ('E'); psql shows it in
 * its prompt (=#, =*#, =!#) and drivers act on it.  A server whose status
 * stays 'I' after BEGIN, or that runs statements in a failed block, is
 * easily told from a real one.  So, as 15.18 does (xact.c, postgres.c;
 * measured against Debian 12's server):
 *
 *   BEGIN / START TRANSACTION   open a block; inside one: WARNING 25001
 *   COMMIT / END                close it ("ROLLBACK" if it failed);
 *                               outside one: WARNING 25P01
 *   ROLLBACK / ABORT            close it; outside one: WARNING 25P01
 *   SAVEPOINT, RELEASE, ROLLBACK TO
 *                               inside a block only (ERROR 25P01
 *                               otherwise); unknown names are 3B001; ROLLBACK
 *                               TO mends a failed block
 *   an error inside a block     fails it: every statement but those ending
 *                               it (ROLLBACK TO included) is then ERROR
 *                               25P02 until the block ends
 *
 * COMMIT AND CHAIN opens the next block at once.  An error outside a block
 * leaves the status 'I' (the implicit transaction of the query ends).  Line
 * numbers are 15.18's for every release, as the module's other lines are.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "pgsql_int.h"

static void txn_complete(struct hp_pg_sess *s, const char *tag)
{
    size_t at = hp_pg_msg_begin(s, 'C');
    hp_buf_put(&s->out, tag, strlen(tag) + 1);
    hp_pg_msg_end(s, at);
}

static void txn_notice(struct hp_pg_sess *s, const char *code, const char *msg, unsigned line,
                       const char *routine)
{
    hp_pg_report(s, 'N', "WARNING", code, msg, 0, "xact.c", line, routine);
}

static bool txn_error(struct hp_pg_sess *s, const char *code, const char *msg, unsigned line, const char *routine)
{
    hp_pg_report(s, 'E', "ERROR", code, msg, 0, "xact.c", line, routine);
    hp_pg_txn_failed(s);
    return false;
}

/* The word of low after its first n words ("" past the end), at most cap - 1 bytes. */
static void txn_word(const char *low, unsigned n, char *out, size_t cap)
{
    const char *p = low;
    for (unsigned i = 0; i <= n; i++) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != ';')
            e++;
        if (i == n) {
            size_t k = (size_t)(e - p) < cap - 1 ? (size_t)(e - p) : cap - 1;
            memcpy(out, p, k);
            out[k] = '\0';
            if (k >= 2 && out[0] == '"' && out[k - 1] == '"') {   /* a quoted name: its text */
                memmove(out, out + 1, k - 2);
                out[k - 2] = '\0';
            }
            return;
        }
        p = e;
    }
}

/* The savepoint a RELEASE / ROLLBACK TO names: the word after the verb's
 * noise words (WORK, TRANSACTION, TO, SAVEPOINT). */
static void txn_target(const char *low, char *out, size_t cap)
{
    static const char *const noise[] = { "work", "transaction", "to", "savepoint" };
    char w[HP_PG_SAVEPOINT_NAME];
    unsigned i = 1;
    for (;; i++) {
        txn_word(low, i, w, sizeof(w));
        bool skip = false;
        for (size_t k = 0; k < sizeof(noise) / sizeof(noise[0]); k++)
            skip |= strcmp(w, noise[k]) == 0;
        if (!skip || i > 4)
            break;
    }
    txn_word(low, i, out, cap);
}

static int txn_find(const struct hp_pg_sess *s, const char *name)
{
    for (unsigned i = s->nsavepoints; i-- > 0;)
        if (strcmp(s->savepoints[i], name) == 0)
            return (int)i;
    return -1;
}

static bool txn_savepoint(struct hp_pg_sess *s, const char *low, bool release)
{
    char name[HP_PG_SAVEPOINT_NAME], msg[HP_PG_SAVEPOINT_NAME + 40];
    if (s->txn == 'I')
        return txn_error(s, "25P01", release ? "RELEASE SAVEPOINT can only be used in transaction blocks"
                                             : "SAVEPOINT can only be used in transaction blocks",
                         3587, "CheckTransactionBlock");
    if (!release) {
        txn_word(low, 1, name, sizeof(name));
        if (s->nsavepoints == HP_PG_SAVEPOINTS) {          /* the oldest makes room */
            memmove(s->savepoints[0], s->savepoints[1], sizeof(s->savepoints[0]) * (HP_PG_SAVEPOINTS - 1));
            s->nsavepoints--;
        }
        snprintf(s->savepoints[s->nsavepoints++], HP_PG_SAVEPOINT_NAME, "%s", name);
        txn_complete(s, "SAVEPOINT");
        return true;
    }
    txn_target(low, name, sizeof(name));
    int at = txn_find(s, name);
    if (at < 0) {
        snprintf(msg, sizeof(msg), "savepoint \"%s\" does not exist", name);
        return txn_error(s, "3B001", msg, s->nsavepoints ? 4368 : 4317, "ReleaseSavepoint");
    }
    s->nsavepoints = (unsigned)at;                         /* it and the ones after it */
    txn_complete(s, "RELEASE");
    return true;
}

static bool txn_rollback_to(struct hp_pg_sess *s, const char *low)
{
    char name[HP_PG_SAVEPOINT_NAME], msg[HP_PG_SAVEPOINT_NAME + 40];
    if (s->txn == 'I')
        return txn_error(s, "25P01", "ROLLBACK TO SAVEPOINT can only be used in transaction blocks", 3587,
                         "CheckTransactionBlock");
    txn_target(low, name, sizeof(name));
    int at = txn_find(s, name);
    if (at < 0) {
        snprintf(msg, sizeof(msg), "savepoint \"%s\" does not exist", name);
        return txn_error(s, "3B001", msg, 4428, "RollbackToSavepoint");
    }
    s->nsavepoints = (unsigned)at + 1;                     /* it stays; the later ones go */
    s->txn = 'T';
    txn_complete(s, "ROLLBACK");
    return true;
}

static bool txn_is(const char *verb, const char *w)
{
    return strcmp(verb, w) == 0;
}

bool hp_pg_txn_ends(const char *verb)
{
    return txn_is(verb, "commit") || txn_is(verb, "end") || txn_is(verb, "rollback") || txn_is(verb, "abort");
}

bool hp_pg_txn_stmt(struct hp_pg_sess *s, const char *verb, const char *low, bool *ok)
{
    *ok = true;
    if (txn_is(verb, "begin") || (txn_is(verb, "start") && strncmp(low, "start transaction", 17) == 0)) {
        if (s->txn != 'I')
            txn_notice(s, "25001", "there is already a transaction in progress", 3789, "BeginTransactionBlock");
        s->txn = 'T';
        txn_complete(s, txn_is(verb, "begin") ? "BEGIN" : "START TRANSACTION");
        return true;
    }
    if (txn_is(verb, "commit") || txn_is(verb, "end")) {
        if (s->txn == 'I')
            txn_notice(s, "25P01", "there is no transaction in progress", 3987, "EndTransactionBlock");
        txn_complete(s, s->txn == 'E' ? "ROLLBACK" : "COMMIT");
        s->txn = s->txn == 'T' && strstr(low, " and chain") && !strstr(low, " and no chain") ? 'T' : 'I';
        s->nsavepoints = 0;
        return true;
    }
    if (txn_is(verb, "rollback") && strstr(low, " to ")) {
        *ok = txn_rollback_to(s, low);
        return true;
    }
    if (txn_is(verb, "rollback") || txn_is(verb, "abort")) {
        if (s->txn == 'I')
            txn_notice(s, "25P01", "there is no transaction in progress", 4110, "UserAbortTransactionBlock");
        txn_complete(s, "ROLLBACK");
        s->txn = 'I';
        s->nsavepoints = 0;
        return true;
    }
    if (txn_is(verb, "savepoint") || txn_is(verb, "release")) {
        *ok = txn_savepoint(s, low, txn_is(verb, "release"));
        return true;
    }
    return false;
}

bool hp_pg_txn_refuses(struct hp_pg_sess *s, const char *verb)
{
    if (s->txn != 'E' || hp_pg_txn_ends(verb))
        return false;
    hp_pg_report(s, 'E', "ERROR", "25P02",
                 "current transaction is aborted, commands ignored until end of transaction block", 0,
                 "postgres.c", 1081, "exec_simple_query");
    return true;
}

void hp_pg_txn_failed(struct hp_pg_sess *s)
{
    if (s->txn == 'T')
        s->txn = 'E';
}
