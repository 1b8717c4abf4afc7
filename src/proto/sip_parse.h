/*
 * sip_parse.h - the pure parts of the SIP module (src/proto/sip.c): message
 * parsing, Digest credentials, the hashcat line, scanner recognition and the
 * response builder, apart from the sockets so that unit tests and the fuzzer
 * reach them directly.
 *
 * A message is parsed through the hp_rd reader into a struct sip_msg whose
 * header values are copied, unfolded, into its own bounded arena: folded
 * header lines (continuations starting with a blank) become one value, and
 * compact header names (f, t, v, i, m, l, c, k, s, e) are mapped to the long
 * ones.  Nothing points into the peer's buffer except the body.
 */
#ifndef HP_SIP_PARSE_H
#define HP_SIP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

#define SIP_LINE_MAX   2048        /* request line and each header line */
#define SIP_HEAD_MAX   8192        /* request line + headers (stream framing) */
#define SIP_BODY_MAX   16384       /* Content-Length accepted */
#define SIP_HDRS_MAX   64          /* header lines kept; more are skipped */
#define SIP_VIA_MAX    8
#define SIP_ARENA      8192

struct sip_str {
    const char *p;
    size_t n;
};

struct sip_msg {
    bool response;                 /* "SIP/2.0 200 OK" rather than a request */
    int status;                    /* responses */
    struct sip_str line;           /* the first line, without CRLF */
    struct sip_str method, uri, version;
    struct sip_str via[SIP_VIA_MAX];
    size_t nvia;
    struct sip_str from, to, call_id, cseq, contact, user_agent, authorization, proxy_authorization,
        content_type, max_forwards;
    bool has_content_length;
    size_t content_length;
    const uint8_t *body;
    size_t body_len;
    size_t nheaders;               /* header lines seen (kept or not) */
    size_t need;                   /* SIP_MORE with the head complete: bytes the whole message takes */
    size_t arena_used;
    char arena[SIP_ARENA];
};

enum { SIP_OK = 0, SIP_MORE = 1, SIP_BAD = -1 };

/*
 * Parse one message.  stream (TCP): the message must be complete (headers
 * and Content-Length bytes of body); SIP_MORE when it is not yet, nothing
 * consumed; SIP_BAD past SIP_HEAD_MAX or SIP_BODY_MAX.  Datagram: the body is
 * the rest of the datagram, cut at Content-Length.  Leading empty lines
 * (keep-alives) are skipped.  On SIP_OK the reader is past the message.
 */
int sip_parse(struct hp_rd *r, bool stream, struct sip_msg *m);

/*
 * Stream framing without parsing the buffered head again on every read
 * (one byte per segment made each read re-parse up to SIP_HEAD_MAX bytes):
 * sip_parse can only answer differently once a line is complete, a size
 * limit is crossed, or - the head being complete - the body is all there.
 * sip_stream_ready() says whether the len buffered bytes of the pending
 * message (from its first byte) are worth parsing; sip_stream_note()
 * records sip_parse's answer.
 */
struct sip_stream {
    size_t seen;                   /* bytes of the pending message already parsed */
    size_t need;                   /* head complete: bytes the message takes, else 0 */
};
bool sip_stream_ready(struct sip_stream *st, const uint8_t *p, size_t len);
void sip_stream_note(struct sip_stream *st, int rc, const struct sip_msg *m, size_t len);

/* Digest credentials of an Authorization / Proxy-Authorization value. */
struct sip_digest {
    struct sip_str username, realm, nonce, uri, response, algorithm, cnonce, nc, qop, opaque;
};
/* false when the value is not "Digest ..." or lacks username/response. */
bool sip_digest_parse(struct sip_str v, struct sip_digest *d);
/* hashcat mode 11400 line ("$sip$*server*client*user*realm*method*prefix*
 * resource*suffix*nonce*cnonce*nc*qop*MD5*response"); 0 when it does not
 * fit or a field holds '*' or a control byte (the format has no escaping). */
size_t sip_hashcat(const struct sip_digest *d, const char *method, const char *server_ip,
                   const char *client_ip, char *out, size_t outlen);

/* Canonical scanner name for a User-Agent ("friendly-scanner", "sipvicious",
 * ...), or NULL for an ordinary one. */
const char *sip_scanner(struct sip_str ua);

/* "sip:user@host;params" -> user ("" when none), bounded copy. */
void sip_uri_user(struct sip_str uri, char *out, size_t outlen);
/* The URI inside a From/To value ("Name" <sip:x@y>;tag=... -> sip:x@y). */
struct sip_str sip_addr_uri(struct sip_str v);

/* What a response carries besides the echoed Via/From/To/Call-ID/CSeq. */
struct sip_reply {
    int code;
    const char *reason;
    const char *server;            /* Server header, NULL none */
    const char *allow;             /* optional headers, dropped first */
    const char *supported;
    const char *accept;
    const char *contact;
    const char *auth_header;       /* "WWW-Authenticate" or "Proxy-Authenticate" */
    const char *auth_value;        /* mandatory when set */
    const char *auth_short;        /* the same challenge without defaults (level 3) */
    const char *to_tag;            /* added to To when it has no tag */
    const char *src_ip;            /* for ;received= / ;rport= in the top Via */
    uint16_t src_port;
};
/* Build the response into out (cap bytes).  level 0: everything; 1: without
 * Allow/Supported/Accept/Contact; 2: also without Server; 3: also compact
 * header names, the top Via as received (no rport/received filled in) and
 * auth_short.  Returns its length, or 0 when it does not fit in cap. */
#define SIP_LEVEL_MAX 3
size_t sip_build_reply(const struct sip_msg *m, const struct sip_reply *rp, int level, char *out, size_t cap);

/* Case-insensitive equality of a sip_str with a C string. */
bool sip_str_eq(struct sip_str s, const char *c);

#endif
