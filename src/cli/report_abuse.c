/*
 * report_abuse.c - `hanipo report --abuse DIR`: the evidence against each
 * source network, one text file per ASN, ready to send to its abuse desk or
 * to a CERT.
 *
 * One query lists every source address of the range with its ASN, first and
 * last event and what it did (connections, logins, commands, downloads, HTTP
 * requests), ordered by ASN so that each file is written in one go; a second
 * prepared statement (by src_ip, through its index) fetches a few sample
 * events of each address, which are the stored JSON lines themselves: what an
 * abuse desk is used to receiving.
 *
 * The files hold real addresses (masking would defeat their purpose).  File
 * names are built from the ASN with everything but [A-Za-z0-9] dropped, so
 * no value can point outside DIR; files are created with O_NOFOLLOW, 0640.
 * Sample lines are escaped with hp_term_escape (backslashes kept) and cut
 * at RA_LINE bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "report.h"
#include "term.h"

#define RA_SAMPLES 3                /* sample events per address */
#define RA_SAMPLED_IPS 200          /* addresses per network that get samples */
#define RA_LINE 1000                /* bytes of a sample line */

static const char ra_ips_sql[] =
    "SELECT src_ip, max(json_extract(data, '$.src_asn')), max(json_extract(data, '$.src_as_org')),"
    " max(json_extract(data, '$.src_cc')), min(ts), max(ts), sum(eventid = 'session.connect'),"
    " sum(eventid IN ('login.success', 'login.failed')), sum(eventid = 'command.input'),"
    " sum(eventid = 'session.file_download'), sum(eventid = 'http.request')"
    " FROM events WHERE ts >= ?1 AND ts < ?2 AND src_ip IS NOT NULL"
    " GROUP BY src_ip ORDER BY 2, 7 DESC, 1";

static const char ra_samples_sql[] =
    "SELECT data FROM events WHERE src_ip = ?3 AND ts >= ?1 AND ts < ?2 AND eventid IN"
    " ('login.success', 'login.failed', 'command.input', 'session.file_download', 'http.request')"
    " ORDER BY ts LIMIT ?4";

struct ra_file {
    FILE *f;
    char asn[64];                   /* current network (sanitised), "" before the first */
    size_t ips, files;
};

static void ra_time(int64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Terminal-safe text (hp_term_escape), except that a backslash stays one:
 * sample lines are JSON, whose escapes would be unreadable as \x5c.  Cutting
 * the input at a backslash never splits a UTF-8 sequence. */
static void ra_put_escaped(FILE *f, const char *s, size_t n, size_t max)
{
    size_t shown = n > max ? max : n;
    char *esc = malloc(4 * shown + 1);
    if (!esc)
        abort();
    for (size_t i = 0; i < shown; ) {
        const char *bs = memchr(s + i, '\\', shown - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : shown - i;
        hp_term_escape(s + i, run, esc, 4 * run + 1);
        fputs(esc, f);
        i += run;
        if (bs) {
            fputc('\\', f);
            i++;
        }
    }
    if (shown < n)
        fputs("...", f);
    free(esc);
}

/* "AS13335" from whatever the ASN field holds; "unknown" when nothing is left. */
static void ra_name(const unsigned char *asn, char *out, size_t len)
{
    size_t o = 0;
    for (const unsigned char *p = asn; p && *p && o + 1 < len; p++)
        if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
            out[o++] = (char)*p;
    out[o] = '\0';
    if (o == 0)
        snprintf(out, len, "unknown");
    else if (out[0] >= '0' && out[0] <= '9' && o + 3 < len) {
        memmove(out + 2, out, o + 1);
        memcpy(out, "AS", 2);
    }
}

static int ra_open(struct ra_file *rf, const char *dir, const char *name, sqlite3_stmt *st,
                   const struct rp_opts *o, char *err, size_t errlen)
{
    char path[4200], since[32], until[32];
    if (rf->f && fclose(rf->f) != 0) {
        rf->f = NULL;
        snprintf(err, errlen, "cannot write %s/%s.txt: %s", dir, rf->asn, strerror(errno));
        return -1;
    }
    snprintf(rf->asn, sizeof(rf->asn), "%s", name);
    snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    rf->f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!rf->f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rf->files++;
    ra_time(o->since_us, since, sizeof(since));
    ra_time(o->until_us, until, sizeof(until));
    const unsigned char *org = sqlite3_column_text(st, 2);
    fprintf(rf->f, "Abuse report: %s", name);
    if (org) {
        fputs(" (", rf->f);
        ra_put_escaped(rf->f, (const char *)org, (size_t)sqlite3_column_bytes(st, 2), 200);
        fputs(")", rf->f);
    }
    fprintf(rf->f, "\nPeriod: %s .. %s (UTC)\n\n"
            "The addresses below, announced by this network, connected to a honeypot: a host\n"
            "that offers no service to anyone, so every connection to it is unsolicited\n"
            "(scanning, password guessing, exploitation, malware downloads). Times are UTC;\n"
            "the sample events are the sensor's own JSON records.\n\n", since, until);
    return 0;
}

static void ra_ip(FILE *f, sqlite3_stmt *st, sqlite3_stmt *samples, bool sample)
{
    char first[32], last[32];
    const unsigned char *ip = sqlite3_column_text(st, 0), *cc = sqlite3_column_text(st, 3);
    ra_time(sqlite3_column_int64(st, 4), first, sizeof(first));
    ra_time(sqlite3_column_int64(st, 5), last, sizeof(last));
    ra_put_escaped(f, (const char *)ip, (size_t)sqlite3_column_bytes(st, 0), 64);
    if (cc) {
        fputs(" [", f);
        ra_put_escaped(f, (const char *)cc, (size_t)sqlite3_column_bytes(st, 3), 8);
        fputs("]", f);
    }
    fprintf(f, "\n  first seen %s, last seen %s\n  connections %lld, login attempts %lld, commands %lld,"
            " downloads %lld, HTTP requests %lld\n", first, last, (long long)sqlite3_column_int64(st, 6),
            (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 8),
            (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 10));
    if (sample) {
        sqlite3_bind_text(samples, 3, (const char *)ip, sqlite3_column_bytes(st, 0), SQLITE_TRANSIENT);
        while (sqlite3_step(samples) == SQLITE_ROW) {
            fputs("  > ", f);
            ra_put_escaped(f, (const char *)sqlite3_column_text(samples, 0),
                           (size_t)sqlite3_column_bytes(samples, 0), RA_LINE);
            fputc('\n', f);
        }
        sqlite3_reset(samples);
    }
    fputc('\n', f);
}

int hp_report_abuse(sqlite3 *db, const struct rp_opts *o, const char *dir, FILE *summary, char *err,
                    size_t errlen)
{
    sqlite3_stmt *st = NULL, *samples = NULL;
    struct ra_file rf;
    int rc, ret = -1;
    memset(&rf, 0, sizeof(rf));
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (sqlite3_prepare_v2(db, ra_ips_sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, ra_samples_sql, -1, &samples, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "abuse: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_int64(st, 1, o->since_us);
    sqlite3_bind_int64(st, 2, o->until_us);
    sqlite3_bind_int64(samples, 1, o->since_us);
    sqlite3_bind_int64(samples, 2, o->until_us);
    sqlite3_bind_int(samples, 4, RA_SAMPLES);
    size_t in_file = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[64];
        ra_name(sqlite3_column_text(st, 1), name, sizeof(name));
        if (!rf.f || strcmp(name, rf.asn) != 0) {
            if (rf.f && summary)
                fprintf(summary, "%s/%s.txt: %zu address(es)\n", dir, rf.asn, in_file);
            if (ra_open(&rf, dir, name, st, o, err, errlen) != 0)
                goto out;
            in_file = 0;
        }
        ra_ip(rf.f, st, samples, in_file < RA_SAMPLED_IPS);
        in_file++;
        rf.ips++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "abuse: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (rf.f && summary)
        fprintf(summary, "%s/%s.txt: %zu address(es)\n", dir, rf.asn, in_file);
    if (summary)
        fprintf(summary, "%zu file(s), %zu address(es)\n", rf.files, rf.ips);
    ret = 0;
out:
    if (rf.f && fclose(rf.f) != 0 && ret == 0) {
        snprintf(err, errlen, "cannot write %s/%s.txt: %s", dir, rf.asn, strerror(errno));
        ret = -1;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(samples);
    return ret;
}
