/*
 * http_login.h - the login a web request carries (http.credentials).
 *
 * Web brute-forcers send credentials three ways, and each is read here from
 * the request's raw bytes, never trusting a length or a quote they contain:
 *
 *   basic  Authorization: Basic base64(user:password) - routers, cameras,
 *          Tomcat's manager, any page behind a realm;
 *   form   an HTML form posted as name=value&... - wp-login.php log/pwd,
 *          phpMyAdmin, Java EE j_username, Boa routers' formLogin psd;
 *   json   a JSON object posted by a single-page login - Grafana's /login
 *          {"user","password"}, appliance and router APIs' /api/login -
 *          or wrapped one level down, as JSON-RPC logins send it (Zabbix's
 *          {"method":"user.login","params":{"username","password"}}).
 *   wallet an Ethereum JSON-RPC personal_unlockAccount: the account is the
 *          user, the passphrase guessed for it the password.
 *
 * A form or JSON body counts only when it holds both a user field and a
 * password field (docs/http.md lists the names); the first of each wins.
 * Values are decoded and cut at HP_HTTP_LOGIN_MAX bytes.
 */
#ifndef HP_HTTP_LOGIN_H
#define HP_HTTP_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intel/httpview.h"

#define HP_HTTP_LOGIN_MAX      512            /* bytes kept of a user name or password */
#define HP_HTTP_LOGIN_BODY_MAX (64 * 1024)    /* bodies beyond this are not login forms */

struct hp_http_login {
    const char *kind;                          /* "basic", "form", "json" or "wallet" */
    uint8_t user[HP_HTTP_LOGIN_MAX];
    size_t ulen;
    uint8_t pass[HP_HTTP_LOGIN_MAX];
    size_t plen;
};

/* An Authorization header's value: true with the login for "Basic b64(user:pass)". */
bool hp_http_login_basic(struct hp_bytes authorization, struct hp_http_login *out);

/* A request body: true with the login of a login form or JSON login object. */
bool hp_http_login_body(struct hp_bytes body, struct hp_http_login *out);

#endif
