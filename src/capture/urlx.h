/*
 * urlx.h - find every URL / download intent an attacker points at, in any text.
 *
 * One pure, bounded extractor used by every protocol: shell command lines,
 * decoded exploit payloads, HTTP/SOAP/JSON bodies, SQL, Redis/cron payloads
 * and downloaded scripts.  See docs/capture.md "URL extraction" for what is
 * recognised.  No I/O, no mutable globals: safe on the network thread.
 */
#ifndef HP_URLX_H
#define HP_URLX_H

#include <stddef.h>

#define HP_URLX_MAX 64          /* URLs reported per scan */
#define HP_URLX_URL_MAX 2048    /* longer URLs are skipped */

/* One URL found: normalised ("scheme://host[:port]/path[?query]"), with how it was found:
 *   how:   "url" (a literal scheme URL in the text), "wget", "curl", "tftp", "ftpget",
 *          "ftp-script", "nc", "busybox-wget-g", "powershell", "certutil", "bitsadmin",
 *          "perl", "python", "php"
 *   layer: "plain", "urldecode", "base64", "hex", "ifs" - the outermost decoding that
 *          revealed it (HTML entities and JSON "\/" escapes are part of "plain").
 * The strings are valid only during the call. */
typedef void (*hp_urlx_fn)(void *arg, const char *url, const char *how, const char *layer);

/* Scan len bytes; calls fn once per distinct URL (dedup within the call) up to
 * HP_URLX_MAX, in order of appearance.  Returns the number of URLs reported. */
size_t hp_urlx_scan(const void *data, size_t len, hp_urlx_fn fn, void *arg);

/* Normalise a URL or a scheme-less "host/path" as wget would ("1.2.3.4/x" ->
 * "http://1.2.3.4/x"): lowercase scheme and host, default scheme http (or
 * default_scheme when not NULL), drop default ports and the #fragment, an
 * empty path becomes "/", keep path/query bytes as they are but percent-encode
 * spaces, control bytes and bytes >= 0x80.  Schemes: http, https, ftp, tftp
 * and tcp (used only for nc).  Returns 0, or -1 if not a URL (no host, bad
 * port, host with characters a host cannot have, a DNS name without a dot
 * other than "localhost", a numeric host that is not a dotted quad, output
 * longer than HP_URLX_URL_MAX or outlen - 1). */
int hp_urlx_normalize(const char *in, size_t len, const char *default_scheme, char *out, size_t outlen);

#endif
