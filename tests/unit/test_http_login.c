/*
 * test_http_login.c - the login a web request carries (src/proto/http_login.c).
 *
 * Basic headers as curl and hydra send them (padding, a colon in the
 * password, no colon, bad base64), forms as wp-login.php, phpMyAdmin and
 * Boa routers post them (%XX and + decoding, the first field of each kind,
 * a missing password), JSON logins as Grafana and appliance APIs post them
 * (escapes, a numeric password, member-name spellings, nested objects not
 * read, malformed JSON refused), and the caps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http_login.h"
#include "util.h"

static struct hp_bytes B(const char *s)
{
    return (struct hp_bytes){ (const uint8_t *)s, strlen(s) };
}

/* The login of body (or of a Basic header when basic), as "kind user:pass", or "-" for none. */
static const char *login(const char *text, int basic)
{
    static char out[2 * HP_HTTP_LOGIN_MAX + 16];
    struct hp_http_login l;
    memset(&l, 0xa5, sizeof(l));
    bool ok = basic ? hp_http_login_basic(B(text), &l) : hp_http_login_body(B(text), &l);
    if (!ok)
        return "-";
    assert_true(l.ulen <= HP_HTTP_LOGIN_MAX && l.plen <= HP_HTTP_LOGIN_MAX);
    snprintf(out, sizeof(out), "%s %.*s:%.*s", l.kind, (int)l.ulen, (const char *)l.user, (int)l.plen,
             (const char *)l.pass);
    return out;
}

static void test_basic(void **state)
{
    (void)state;
    assert_string_equal(login("Basic YWRtaW46YWRtaW4=", 1), "basic admin:admin");
    assert_string_equal(login("basic  cm9vdDp0b29y ", 1), "basic root:toor");       /* case, spaces */
    assert_string_equal(login("Basic dXNlcjpwOnE=", 1), "basic user:p:q");         /* first colon splits */
    assert_string_equal(login("Basic YWRtaW46", 1), "basic admin:");               /* empty password */
    assert_string_equal(login("Basic YWRtaW4=", 1), "-");                          /* no colon */
    assert_string_equal(login("Basic ***", 1), "-");
    assert_string_equal(login("Bearer eyJhbGciOiJIUzI1NiJ9", 1), "-");
    assert_string_equal(login("Basic ", 1), "-");
}

static void test_form(void **state)
{
    (void)state;
    assert_string_equal(login("log=admin&pwd=qwerty123&wp-submit=Log+In&redirect_to=%2Fwp-admin%2F", 0),
                        "form admin:qwerty123");
    assert_string_equal(login("pma_username=root&pma_password=p%40ss+w%26d&server=1", 0), "form root:p@ss w&d");
    assert_string_equal(login("username=admin&psd=Feefifofum", 0), "form admin:Feefifofum");    /* Boa */
    assert_string_equal(login("ajax=1&username=admin&realm=&credential=admin", 0), "form admin:admin");  /* FortiGate */
    assert_string_equal(login("ajax=1&username=admin&secretkey=forti123", 0), "form admin:forti123");
    assert_string_equal(login("USERNAME=a&Password=b", 0), "form a:b");                      /* any case */
    assert_string_equal(login("user=first&user=second&pass=x", 0), "form first:x");          /* first wins */
    /* ... among fields of one name; the most telling name wins over an earlier weaker one */
    assert_string_equal(login("language=en&setting=Generic+H2+%28Embedded%29&name=Generic+H2+%28Embedded%29"
                              "&driver=org.h2.Driver&url=jdbc%3Ah2%3A~%2Ftest&user=sa&password=", 0), "form sa:");
    assert_string_equal(login("email=a%40b.example&username=u&password=p", 0), "form u:p");
    assert_string_equal(login("name=n&pass=1&password=2", 0), "form n:2");
    assert_string_equal(login("%75ser=enc&pass=y", 0), "form enc:y");                        /* encoded name */
    assert_string_equal(login("username=admin&submit=1", 0), "-");                           /* no password */
    assert_string_equal(login("q=search&page=2", 0), "-");
    assert_string_equal(login("userx=a&passwordx=b", 0), "-");
}

static void test_json(void **state)
{
    (void)state;
    static const struct {
        const char *body, *want;       /* want: "kind user:password", or "-" for none */
    } cases[] = {
        /* Grafana's /login */
        { "{\"user\":\"admin\",\"password\":\"admin\"}", "json admin:admin" },
        { " \r\n{ \"username\" : \"ad\\u006din\", \"password\": \"p\\\"q\" }\n", "json admin:p\"q" },
        { "{\"userName\":\"root\",\"passWord\":123456}", "json root:123456" },
        { "{\"name\":\"n\",\"username\":\"u\",\"Password\":\"p\"}", "json u:p" },
        { "{\"email\":\"a@b.example\",\"password\":\"\"}", "json a@b.example:" },
        /* one level of wrapping is read (JSON-RPC params: Zabbix; an array: OpenWrt's ubus; Rails' user) */
        { "{\"jsonrpc\":\"2.0\",\"method\":\"user.login\","
          "\"params\":{\"username\":\"Admin\",\"password\":\"zabbix\"},\"id\":1}",
          "json Admin:zabbix" },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call\",\"params\":[\"00000000000000000000000000000000\","
          "\"session\",\"login\",{\"username\":\"root\",\"password\":\"admin\"}]}",
          "json root:admin" },
        { "{\"user\":{\"email\":\"a@b.example\",\"password\":\"x\"}}", "json a@b.example:x" },
        { "{\"data\":{\"username\":\"u\",\"password\":\"p\"}}", "json u:p" },
        /* the top level wins over a wrapped login; deeper or unnamed wrapping is not read */
        { "{\"params\":{\"user\":\"in\",\"pass\":\"1\"},\"user\":\"top\",\"pass\":\"2\"}", "json top:2" },
        { "{\"data\":{\"data\":{\"username\":\"u\",\"password\":\"p\"}}}", "-" },
        { "{\"x\":{\"username\":\"u\",\"password\":\"p\"}}", "-" },
        { "{\"params\":[\"username\",\"u\",\"password\",\"p\"]}", "-" },
        /* geth's personal_unlockAccount: the account and the passphrase guessed for it */
        { "{\"jsonrpc\":\"2.0\",\"method\":\"personal_unlockAccount\","
          "\"params\":[\"0x407d73d8a49eeb85d32cf465507dd71d507100c1\",\"123456\",600],\"id\":1}",
          "wallet 0x407d73d8a49eeb85d32cf465507dd71d507100c1:123456" },
        { "{\"method\":\"personal_unlockAccount\",\"params\":[\"0xab\"]}", "-" },
        { "{\"method\":\"personal_unlockAccountX\",\"params\":[\"0xab\",\"p\"]}", "-" },
        { "{\"method\":\"eth_sendTransaction\",\"params\":[\"0xab\",\"p\"]}", "-" },
        /* a user without a password is none */
        { "{\"username\":\"u\"}", "-" },
        { "{\"username\":[\"u\"],\"password\":\"p\"}", "-" },
        /* not one well-formed object */
        { "{\"username\":\"u\",\"password\":\"p\"", "-" },
        { "{\"username\":\"u\",\"password\":\"p\"} trailing", "-" },
        { "[{\"username\":\"u\",\"password\":\"p\"}]", "-" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(login(cases[i].body, 0), cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].body, login(cases[i].body, 0), cases[i].want);
}

/* The %XX decoder the form reader (and the HTTP parser's second pass) shares (util.h). */
static void test_pct_decode(void **state)
{
    (void)state;
    uint8_t out[64];
    const char *in = "a%41+b%zz%4%2";
    size_t n = hp_pct_decode((const uint8_t *)in, strlen(in), true, out, sizeof(out));
    assert_int_equal(n, 11);
    assert_memory_equal(out, "aA b%zz%4%2", 11);            /* invalid or cut escapes kept */
    n = hp_pct_decode((const uint8_t *)in, strlen(in), false, out, sizeof(out));
    assert_memory_equal(out, "aA+b%zz%4%2", n);               /* '+' kept without plus */
    n = hp_pct_decode((const uint8_t *)"%41%42%43", 9, false, out, 2);
    assert_int_equal(n, 2);                                   /* stops when out is full */
    assert_memory_equal(out, "AB", 2);
    uint8_t buf[] = "x%2541%00y";                            /* in place; %00 is a byte */
    n = hp_pct_decode(buf, sizeof(buf) - 1, false, buf, sizeof(buf) - 1);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "x%41\0y", 6);
}

static void test_caps(void **state)
{
    (void)state;
    static char body[HP_HTTP_LOGIN_BODY_MAX + 64];
    /* values longer than the cap are cut at HP_HTTP_LOGIN_MAX */
    int n = snprintf(body, sizeof(body), "username=");
    memset(body + n, 'u', 2000);
    n += 2000;
    n += snprintf(body + n, sizeof(body) - (size_t)n, "&password=");
    memset(body + n, 'p', 2000);
    body[n + 2000] = '\0';
    struct hp_http_login l;
    assert_true(hp_http_login_body(B(body), &l));
    assert_int_equal(l.ulen, HP_HTTP_LOGIN_MAX);
    assert_int_equal(l.plen, HP_HTTP_LOGIN_MAX);
    assert_true(l.user[HP_HTTP_LOGIN_MAX - 1] == 'u' && l.pass[HP_HTTP_LOGIN_MAX - 1] == 'p');
    n = snprintf(body, sizeof(body), "{\"username\":\"");
    memset(body + n, 'u', 2000);
    n += 2000;
    snprintf(body + n, sizeof(body) - (size_t)n, "\",\"password\":\"x\"}");
    assert_true(hp_http_login_body(B(body), &l));
    assert_int_equal(l.ulen, HP_HTTP_LOGIN_MAX);
    /* a body beyond HP_HTTP_LOGIN_BODY_MAX is no login form, however it starts */
    memset(body, 'a', sizeof(body) - 1);
    memcpy(body, "user=a&pass=b&x=", 16);
    body[HP_HTTP_LOGIN_BODY_MAX + 1] = '\0';
    assert_false(hp_http_login_body(B(body), &l));
    body[HP_HTTP_LOGIN_BODY_MAX] = '\0';
    assert_true(hp_http_login_body(B(body), &l));
    /* a Basic header longer than 4 KiB is refused */
    memset(body, 'Q', 4200);
    memcpy(body, "Basic ", 6);
    body[4200] = '\0';
    assert_false(hp_http_login_basic(B(body), &l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
