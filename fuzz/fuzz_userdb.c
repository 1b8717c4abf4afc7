/*
 * fuzz_userdb.c - libFuzzer harness for the credential rules (src/shell/userdb.c).
 *
 * Input: rules text up to the first NUL byte; after it, credentials to
 * check: repeatedly a length byte L, L bytes of user name, a length byte M,
 * M bytes of password (short input ends the list; user and password may
 * hold any byte, NUL included).  The text is parsed with hp_userdb_parse.
 * On failure the message must be NUL-terminated and read "fuzz.db:LINE: ..."
 * with LINE between 1 and the number of lines.  On success every credential
 * (plus a few fixed ones) is checked twice with the same answer, and the
 * same text with "*:x:*" prepended must accept everything (first match;
 * unless that one more rule passes the 10,000 rule limit).
 * PCRE2 patterns come from the input too, so pathological patterns meet
 * long subjects: the match limits keep each check short (-timeout).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shell/userdb.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_err(const char *err, size_t errlen, const char *text)
{
    CHECK(memchr(err, '\0', errlen) != NULL);
    CHECK(strncmp(err, "fuzz.db:", 8) == 0);
    long lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    char *end;
    long line = strtol(err + 8, &end, 10);
    CHECK(end > err + 8 && line >= 1 && line <= lines);
    CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
}

static void check_creds(const struct hp_userdb *db, const struct hp_userdb *all,
                        const uint8_t *p, size_t n)
{
    static const char *const fixed[][2] = { { "root", "root" }, { "", "" }, { "root", "" }, { "admin", "honeypot" } };
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
        const char *u = fixed[k][0], *pw = fixed[k][1];
        bool a = hp_userdb_check(db, u, strlen(u), pw, strlen(pw));
        CHECK(a == hp_userdb_check(db, u, strlen(u), pw, strlen(pw)));
        CHECK(hp_userdb_check(all, u, strlen(u), pw, strlen(pw)));
    }
    for (int k = 0; k < 16 && n > 0; k++) {
        size_t ul = p[0];
        if (ul + 2 > n)
            break;
        const char *u = (const char *)p + 1;
        size_t pl = p[1 + ul];
        if (ul + 2 + pl > n)
            break;
        const char *pw = (const char *)p + 2 + ul;
        bool a = hp_userdb_check(db, u, ul, pw, pl);
        CHECK(a == hp_userdb_check(db, u, ul, pw, pl));
        CHECK(hp_userdb_check(all, u, ul, pw, pl));
        p += ul + 2 + pl;
        n -= ul + 2 + pl;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const uint8_t *nul = memchr(data, '\0', size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    char *text = malloc(tlen + 8);
    if (!text)
        return 0;
    memcpy(text, "*:x:*\n", 6);
    memcpy(text + 6, data, tlen);
    text[6 + tlen] = '\0';

    char err[256];
    memset(err, 'E', sizeof(err));
    struct hp_userdb *db = hp_userdb_parse(text + 6, "fuzz.db", err, sizeof(err));
    if (!db) {
        check_err(err, sizeof(err), text + 6);
    } else {
        struct hp_userdb *all = hp_userdb_parse(text, "fuzz.db", err, sizeof(err));
        CHECK(all != NULL || strstr(err, ": more than 10000 rules") != NULL);
        const uint8_t *creds = nul ? nul + 1 : data + size;
        if (all)
            check_creds(db, all, creds, size - (size_t)(creds - data));
        hp_userdb_free(all);
        hp_userdb_free(db);
    }
    free(text);
    return 0;
}
