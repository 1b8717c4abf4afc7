/*
 * test_relit.c - the literals one of which every match of a pattern contains (src/core/relit.c).
 *
 * Two promises: hp_relit_from_pattern() keeps only bytes every match has
 * (checked on constructs that make a byte optional or the pattern
 * unreadable), and hp_relit_in() finds the literal in any case and
 * anywhere, including at the very end of a text.  The last test runs every
 * shipped classification and response pattern against the exploit texts of
 * the webclass corpus: wherever PCRE2 matches, the literal must be there.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/relit.h"

/* The set as "lit|lit|...", "" for none. */
static const char *lit_of(const char *pat)
{
    static char out[HP_RELIT_ALTS * (HP_RELIT_MAX + 1) + 1];
    struct hp_relit l;
    hp_relit_from_pattern(&l, pat, strlen(pat), false);
    size_t o = 0;
    for (int i = 0; i < l.nalt; i++) {
        if (i)
            out[o++] = '|';
        memcpy(out + o, l.alt[i].lit, l.alt[i].n);
        o += l.alt[i].n;
    }
    out[o] = '\0';
    return out;
}

static void test_extract(void **state)
{
    (void)state;
    static const struct { const char *pat, *lit; } cases[] = {
        { "^/ctrlt/DeviceUpgrade_1", "/ctrlt/deviceupgrade_1" },
        { "^/picsdesc\\.xml$", "/picsdesc.xml" },
        { "<NewStatusURL>", "<newstatusurl>" },
        { "(?s)<NewStatusURL>(.*?)</NewStatusURL>", "</newstatusurl>" },
        { "abc?d", "ab" },                 /* '?' takes back the c */
        { "abcd*", "abc" },
        { "abc+d", "abc" },                /* '+' keeps it */
        { "abcx{0,2}yz", "abc" },
        { "ab{2}", "a" },
        { "wx{,3}y", "w" },
        { "foo(bar|baz)quux", "quux" },    /* a run beats a group's shorter set */
        { "^/(?:ctrlt/DeviceUpgrade_1|GponForm/diag_Form|HNAP1|cgi-bin/;)",
          "ctrlt/deviceupgrade_1|gponform/diag_form|hnap1|cgi-bin/;" },   /* a group beats "/" */
        { "abc|def", "abc|def" },          /* alternatives: one of them */
        { "(?:(?:ab|cd)ef|gh)", "ef|gh" },
        { "(?:xyz)?ab", "ab" },            /* an optional group is no candidate */
        { "(?:xyz)*ab", "ab" },
        { "(?:xyz){0,1}ab", "ab" },
        { "(?:xyz)+a", "xyz" },
        { "(?=xyzw)a", "a" },              /* lookarounds, option settings: stepped over */
        { "(?<!xyzw)a", "a" },
        { "(?i)abc", "abc" },
        { "xyz(?#comment)?w", "" },        /* comments: given up (a quantifier after one applies */
        { "/?(#: x)(?#c)?", "" },          /* to the group before it: the fuzzer's find) */
        { "(?<name>xyzw)a", "xyzw" },      /* named groups are looked into */
        { "(?i:xyzw)a", "xyzw" },
        { "x(?:ab|)y", "x" },              /* an empty alternative: the group has no set */
        { "xy\\|z", "xy|z" },              /* an escaped '|' is a byte: one literal */
        { "[]a]bcd", "bcd" },              /* a leading ']' is a class member */
        { "(xyzw[\\c\\])|q", "xyzw|q" },     /* \c\ is one member (control-\): the ']' ends the class */
        { "(xyzw[\\x5d])|q", "xyzw|q" },      /* \xHH in a class */
        { "(xyzw[\\x{5d}])|[q]", "" },        /* an escape of unknown length in a class: give up */
        { "(xyzw[\\0])|[q]", "" },
        { "[^]x]yz", "yz" },
        { "a\\d+bcd\\bef", "bcd" },
        { "\\$\\{IFS\\}", "${ifs}" },
        { "${IFS}x", "ifs}x" },            /* '{' that is no quantifier: the rest is literal */
        { "a.b", "a" },
        { "", "" },
        /* give up: alternatives, verbs, extended mode, quoting, POSIX classes,
         * escapes with arguments, back references */
        { "abc|\\d+", "" },                /* one alternative without a literal */
        { "a|b|c|d|e|f|g|h|i", "" },       /* more than HP_RELIT_ALTS */
        { "(*UTF)abc", "" },
        { "abc(*ACCEPT)def", "" },
        { "(?x) a b c", "" },
        { "(?i-x:abc)(?x)d e", "" },
        { "\\Qa.b\\E", "" },
        { "[[:alpha:]]abc", "" },
        { "\\x41bcd", "abcd" },          /* \xHH: the byte (lower-cased like any letter) */
        { "\\x4bcd", "kcd" },            /* \x takes two hex digits when there are two: \x4b "cd" */
        { "\\x4Gbc", "" },               /* one hex digit: not followed */
        { "\\x{41}bc", "" },
        { "\\p{L}abc", "" },
        { "(a)bc\\1", "" },
        { "(unclosed", "" },
        { "ab\\", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = lit_of(cases[i].pat);
        if (strcmp(got, cases[i].lit) != 0)
            fail_msg("pattern '%s': literal '%s', expected '%s'", cases[i].pat, got, cases[i].lit);
    }
    /* a run longer than HP_RELIT_MAX keeps its head; a quantifier past the
     * head takes nothing back, one on the last kept byte does */
    char pat[80];
    memset(pat, 'a', 40);
    strcpy(pat + 40, "b?");
    assert_int_equal(strlen(lit_of(pat)), HP_RELIT_MAX);
    memset(pat, 'a', HP_RELIT_MAX);
    strcpy(pat + HP_RELIT_MAX, "?");
    assert_int_equal(strlen(lit_of(pat)), HP_RELIT_MAX - 1);
    /* Java serialization's magic as \x escapes: a binary literal, NUL included */
    struct hp_relit jl;
    const char *jpat = "(?-i)\\xac\\xed\\x00\\x05";
    hp_relit_from_pattern(&jl, jpat, strlen(jpat), false);
    assert_int_equal(jl.nalt, 1);
    assert_int_equal(jl.alt[0].n, 4);
    assert_memory_equal(jl.alt[0].lit, "\xac\xed\x00\x05", 4);
    static const uint8_t body[] = { 'x', '=', 0xac, 0xed, 0x00, 0x05, 's', 'r' }, other[] = { 0xac, 0xed, 0x00, 0x06 };
    assert_true(hp_relit_in(&jl, body, sizeof(body)));
    assert_false(hp_relit_in(&jl, other, sizeof(other)));
    /* UTF patterns get none */
    struct hp_relit l;
    hp_relit_from_pattern(&l, "abc", 3, true);
    assert_int_equal(l.nalt, 0);
}

static bool in(const char *pat, const char *text)
{
    struct hp_relit l;
    hp_relit_from_pattern(&l, pat, strlen(pat), false);
    return hp_relit_in(&l, (const uint8_t *)text, strlen(text));
}

static void test_search(void **state)
{
    (void)state;
    assert_true(in("wget", "cd /tmp; WGET http://x"));
    assert_true(in("wget", "wGeT"));                     /* the whole text */
    assert_true(in("wget", "xxxxwget"));                 /* at the very end */
    assert_false(in("wget", "xxxxwge"));
    assert_false(in("wget", "wge"));                     /* shorter than the literal */
    assert_false(in("wget", ""));
    assert_true(in("ab.c", "aab.c"));                    /* anchored on '.', after a near miss */
    assert_true(in("a/b/c", "a/b/x a/b/c"));
    assert_false(in("a/b/c", "a/b/x a/b/"));
    assert_true(in("xyz", "XyXyZ"));                     /* letters only: both cases looked for */
    assert_true(in("a|b", "anything"));                  /* no literal: every text may match */
    const uint8_t nul[] = { 'a', 0, 'b', 'c', 0 };       /* texts are bytes, not C strings */
    struct hp_relit l;
    hp_relit_from_pattern(&l, "bc", 2, false);
    assert_true(hp_relit_in(&l, nul, sizeof(nul)));
    assert_false(hp_relit_in(&l, nul, 3));
    /* the length test: the shortest alternative decides, not the first */
    hp_relit_from_pattern(&l, "^/(?:ctrlt/DeviceUpgrade_1|HNAP1)", 33, false);
    assert_int_equal(l.minlen, 5);                      /* "hnap1": the group's own literals */
    assert_false(hp_relit_in(&l, (const uint8_t *)"/", 1));
    assert_true(hp_relit_in(&l, (const uint8_t *)"/HNAP1", 6));
    assert_false(in("/ctrlt/|/HNAP1", "/HNAP"));
    hp_relit_from_pattern(&l, "\\w+", 3, false);
    assert_int_equal(l.minlen, 0);                      /* nothing known: nothing ruled out */
}

/* Every line "match|not|cmd FIELD [NAME] PATTERN" of classify.rules and
 * "path|query|body|target|rawbody|headers|header ..." of the response rules
 * is too varied to parse twice here; instead take each rule file's lines,
 * try each word boundary as the start of a pattern, and keep the ones PCRE2
 * compiles.  Every compiled pattern is then run on every corpus text. */
static size_t npat;
static char *pats[4096];

static void add_patterns(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    while (fgets(line, sizeof(line), f) && npat < 4096) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || !line[0])
            continue;
        for (char *p = strchr(line, ' '); p && npat < 4096; p = strchr(p + 1, ' '))
            if (p[1] && p[1] != ' ')
                pats[npat++] = strdup(p + 1);
    }
    fclose(f);
}

static void test_rules_on_corpus(void **state)
{
    (void)state;
    add_patterns("data/http/classify.rules");
    add_patterns("data/http/responses.rules");
    DIR *d = opendir("fuzz/corpus/webclass");
    assert_non_null(d);
    static char *texts[512];
    static size_t lens[512];
    size_t ntext = 0;
    struct dirent *de;
    while ((de = readdir(d)) && ntext < 512) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "fuzz/corpus/webclass/%s", de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        texts[ntext] = malloc(65536);
        lens[ntext] = fread(texts[ntext], 1, 65536, f);
        fclose(f);
        ntext++;
    }
    closedir(d);
    assert_true(ntext > 50);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    size_t compiled = 0, with_lit = 0, matches = 0;
    for (size_t i = 0; i < npat; i++) {
        int ec;
        PCRE2_SIZE eo;
        for (int caseless = 0; caseless < 2; caseless++) {
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)pats[i], PCRE2_ZERO_TERMINATED,
                                           caseless ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
            if (!re)
                break;
            uint32_t opts = 0;
            pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &opts);
            struct hp_relit l;
            hp_relit_from_pattern(&l, pats[i], strlen(pats[i]), (opts & (PCRE2_UTF | PCRE2_UCP)) != 0);
            compiled++;
            with_lit += l.nalt > 0;
            for (size_t t = 0; t < ntext; t++) {
                if (pcre2_match(re, (PCRE2_SPTR)texts[t], lens[t], 0, 0, md, NULL) < 0)
                    continue;
                matches++;
                if (!hp_relit_in(&l, (const uint8_t *)texts[t], lens[t]))
                    fail_msg("pattern '%s' matches corpus text %zu, literals '%s' not found", pats[i], t,
                             lit_of(pats[i]));
            }
            pcre2_code_free(re);
        }
    }
    pcre2_match_data_free(md);
    /* the check means something: many patterns, many with a literal, many matches */
    assert_true(compiled > 200);
    assert_true(with_lit * 2 > compiled);
    assert_true(matches > 200);
    for (size_t t = 0; t < ntext; t++)
        free(texts[t]);
    for (size_t i = 0; i < npat; i++)
        free(pats[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_rules_on_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
