/*
 * http_rules.h - response rules of the HTTP honeypot.
 *
 * A rule set is an ordered list of rules; each rule has match conditions on
 * the request view (method, decoded path, decoded query, header values,
 * decoded body, local port) and a response (status, extra headers, body,
 * optional Basic-auth challenge, tags).  The first rule whose conditions all
 * hold answers.  Rules come from a line-oriented text file (format in
 * docs/http.md "Response rules" and at the top of http_rules.c), from the
 * copy compiled into the binary (data/http/responses.rules and
 * data/http/files/), and from WOWHoneypot's match-and-response XML.
 *
 * Regexes are PCRE2, compiled once at load, matched on bytes (no UTF mode)
 * under a match and depth limit: a regex that would backtrack for long on a
 * hostile subject counts as "no match".
 *
 * A rule set keeps one PCRE2 match-data scratch area, so hp_webrules_match
 * must not be called on the same set from two threads at once (the sensor
 * runs its connections on one event loop).
 */
#ifndef HP_HTTP_RULES_H
#define HP_HTTP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "intel/httpview.h"
#include "http_style.h"

struct hp_webrules;

struct hp_webresp {                    /* borrowed from the rule set */
    const char *id;                    /* rule id */
    int status;
    const char *headers;               /* "Name: value\r\n"... with raw {{templates}} */
    const uint8_t *body;
    size_t body_len;
    const char *auth_realm;            /* non-NULL: Basic auth required */
    const char *tags;                  /* space separated, may be "" */
    bool nginx_static;                 /* `static`: a page (or a missing one) of nginx's own site */
    bool nginx_try_files;              /* `static try_files`: found by try_files $uri $uri/ =404 */
    enum hp_http_style style;          /* `style NAME`: whose form the answer takes (http_style.h) */
};

/* Load a rule file; files named by `file NAME` are read from files_dir
 * (NULL: the directory of path + "/files").  NULL on error with
 * "PATH:LINE: message" in err. */
struct hp_webrules *hp_webrules_load_file(const char *path, const char *files_dir, char *err, size_t errlen);
/* Same from memory; errors read "NAME:LINE: message". */
struct hp_webrules *hp_webrules_load_text(const char *text, size_t len, const char *name, const char *files_dir,
                                          char *err, size_t errlen);
/*
 * Add WOWHoneypot match-and-response rules (art/mrrules.xml format: <mrrs>
 * of <mrr> with <meta><mrrid>/<enable>, <trigger> method/uri/header/body
 * regexes and <response> status/header name+value/body CDATA or
 * filename="..." relative to mrrdata_dir; NULL: the XML's directory).
 * Enabled rules are tried before every rule already in the set, highest
 * mrrid first, as WOWHoneypot does: the operator's own rules win over the
 * shipped ones.  Returns the number of rules added, or -1 with err set
 * ("PATH:LINE: message"); on error the set is unchanged.
 */
int hp_webrules_add_wow(struct hp_webrules *r, const char *xml_path, const char *mrrdata_dir, char *err, size_t errlen);
/* Same with the XML in memory (name is used in errors and ids). */
int hp_webrules_add_wow_text(struct hp_webrules *r, const char *xml, size_t len, const char *name,
                             const char *mrrdata_dir, char *err, size_t errlen);

/* First matching rule, or NULL when none matches (the shipped set ends in a
 * catch-all, so it always answers). */
const struct hp_webresp *hp_webrules_match(const struct hp_webrules *r, const struct hp_http_view *v);

/* The first rule that names port in its `match port` and has a `style`
 * other than nginx, or NULL: whose refusal a request the parser cannot read
 * gets on that port (http_style.h). */
const struct hp_webresp *hp_webrules_port_style(const struct hp_webrules *r, uint16_t port);

/*
 * Expand the templates of a response's headers and body, appending to
 * headers_out (still "Name: value\r\n" lines) and body_out:
 *   {{date}}          RFC 7231 date, now
 *   {{host}}          the request's Host header (sanitised; "localhost" when absent)
 *   {{path}}          the raw request path if plain URL text, else "/" (& and '
 *                     escaped in an XML or HTML body)
 *   {{server}}        server (the configured Server header)
 *   {{random_hex:N}}  N hex digits (1..128), stable per rule, slot and process
 *                     (or per sensor: hp_webrules_set_secret)
 *   {{random_hex:N:KEY}} the same keyed by KEY alone (shared between rules)
 *   {{random_dec:N}}, {{random_dec:N:KEY}}  the same in decimal digits, the
 *                     first not 0 (a JSON number: a pid, a Hadoop timestamp)
 *   {{jsonrpc_id}}    the "id" of a JSON-RPC request body, raw JSON ("null" if none)
 *   {{site_modified}} RFC 7231 date of the site's files (hp_webrules_set_site_time)
 *   {{site_etag}}     nginx's ETag for the body as a static file of that date:
 *                     "<mtime hex>-<body length hex>" (in headers)
 *   {{upnp:KEY}}      a fact of the sensor's UPnP device (src/proto/ssdp.h)
 *   {{persona:KEY}}   a fact of the sensor's Debian personality, the box its SSH
 *                     shell shows (src/shell/persona.h): hostname, kernel, os,
 *                     cpus, mem_bytes; so a service's banner and the shell agree
 * Unknown templates are copied verbatim.  Output is bounded by the buffers' caps.
 */
void hp_webresp_render(const struct hp_webresp *resp, const struct hp_http_view *v, const char *server,
                       struct hp_buf *headers_out, struct hp_buf *body_out);
/* Key for {{random_hex:N}} (e.g. derived from the sensor identity) so fake
 * secrets stay the same across restarts; otherwise a random key per process. */
void hp_webrules_set_secret(const void *key, size_t len);
/* When the site's files were written (seconds since the epoch), for
 * {{site_modified}} and {{site_etag}}; per sensor, from its identity. */
void hp_webrules_set_site_time(int64_t t);

/* Number of rules (tests, status output). */
size_t hp_webrules_count(const struct hp_webrules *r);

void hp_webrules_free(struct hp_webrules *r);

/* The rule set compiled into the binary (data/http/responses.rules and its files). */
struct hp_webrules *hp_webrules_builtin(char *err, size_t errlen);

#endif
