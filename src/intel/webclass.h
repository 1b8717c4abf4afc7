/*
 * webclass.h - attack classification of HTTP requests (class, CVE, OWASP IoT).
 *
 * Every request the HTTP module parses is classified against the built-in
 * rules of data/http/classify.rules (embedded in the binary, see
 * webclass.c and docs/http.md "Attack classification").  A rule is a set of
 * PCRE2 conditions on fields of the request view (src/intel/httpview.h); each
 * field is matched in its decoded form and in a normalised form (${IFS} and
 * tabs as spaces, backslash-newline removed, %XX undone once more), so
 * command-injection payloads match however they were written.  All matching
 * rules contribute: the result is the union of their classes and CVEs, the
 * OWASP IoT Top 10 (2018) category of the first one that has one, and the
 * injected shell commands their "cmd" lines extracted, for the URL extractor
 * and the shell parser (never executed).
 */
#ifndef HP_WEBCLASS_H
#define HP_WEBCLASS_H

#include <stdbool.h>
#include <stddef.h>
#include "intel/httpview.h"

#define HP_WEBCLASS_MAX 16

struct hp_webclass {
    const char *classes[HP_WEBCLASS_MAX]; size_t nclasses;   /* distinct, static strings */
    const char *cves[HP_WEBCLASS_MAX]; size_t ncves;          /* distinct, valid until shutdown */
    const char *owasp_iot;                                    /* "I1".."I10" of the first rule that has one, or NULL */
    const char *rules[HP_WEBCLASS_MAX]; size_t nrules;        /* ids of the rules that matched, in file order */
    char commands[4096]; size_t commands_len;                 /* injected shell commands, '\n'-joined, NUL-terminated */
};

/* Compile the built-in rules (call before the sandbox: PCRE2's JIT needs
 * executable memory).  Returns 0, or -1 with a message in err.  Calling it
 * again when already initialised is a no-op. */
int hp_webclass_init(char *err, size_t errlen);

/* Compile rules from a text instead (tests; replaces the current set). */
int hp_webclass_init_text(const char *text, size_t len, char *err, size_t errlen);

/* Classify one request; out is fully overwritten.  Without hp_webclass_init
 * the result is empty.  Uses one shared scratch/JIT stack: call from one
 * thread (the network thread). */
void hp_webclass_classify(const struct hp_http_view *v, struct hp_webclass *out);

/* Number of compiled rules (0 when not initialised). */
size_t hp_webclass_nrules(void);

/* Whether requests are checked only against the rules their literals name
 * (the one-pass literal sets of src/core/litset.h were built), and a switch
 * to test each rule's literals one by one instead, for the tests and the
 * benchmarks that compare both ways (on only takes effect when they were
 * built).  The answers are the same either way. */
bool hp_webclass_litsets(void);
void hp_webclass_use_litsets(bool on);

/* The rules a request is tried against (its gates' literals let them in,
 * plus the rules without a gate): their ids, up to max of them, and how many
 * there are.  For the tests that keep ordinary requests cheap: a rule with
 * a weak gate is tried on every request. */
size_t hp_webclass_candidates(const struct hp_http_view *v, const char **ids, size_t max);

/* The attack class vocabulary, shared with the trap's rules (payloadclass.h):
 * the static string for name, or NULL when it is not a class. */
const char *hp_webclass_class_name(const char *name);

/* Whether s is a well-formed CVE id (CVE-YYYY-NNNN...). */
bool hp_webclass_valid_cve(const char *s);

void hp_webclass_shutdown(void);

#endif
