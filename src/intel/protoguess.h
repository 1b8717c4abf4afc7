/*
 * protoguess.h - label the first bytes of a connection with a protocol guess.
 *
 * The catch-all trap records whatever arrives on any port; operators want to
 * know what it was (an HTTP exploit on 37215, a TLS ClientHello on 8443, an
 * RDP cookie on 3389, ...).  hp_protoguess() looks only at the bytes, never at
 * the port, and returns a short protocol name plus a few extracted details
 * (all of them peer bytes, to be logged as data).  It reads through hp_rd only.
 */
#ifndef HP_PROTOGUESS_H
#define HP_PROTOGUESS_H

#include <stddef.h>
#include <stdint.h>

#define HP_GUESS_MAX_DETAILS 4
#define HP_GUESS_DETAIL_MAX 256

struct hp_guess_detail {
    const char *key;                 /* static, e.g. "http_method", "rdp_cookie" */
    const uint8_t *value;            /* into the input (peer bytes), or static text for
                                        decoded numbers such as modbus_function */
    size_t len;                      /* capped at HP_GUESS_DETAIL_MAX */
};

struct hp_guess {
    const char *proto;               /* static: "http", "tls", ..., "unknown" */
    int confidence;                  /* 0..100 */
    struct hp_guess_detail details[HP_GUESS_MAX_DETAILS];
    int ndetails;
};

enum hp_guess_transport { HP_GUESS_TCP, HP_GUESS_UDP };

/* Always fills out (proto "unknown" with confidence 0 when nothing fits; "empty" for len 0). */
void hp_protoguess(const uint8_t *data, size_t len, enum hp_guess_transport t, struct hp_guess *out);

/*
 * Length of a complete HTTP request at the start of data (headers plus a
 * Content-Length body, capped at cap): > 0 when complete, 0 when more input
 * is needed, -1 when the bytes are not an HTTP request.
 */
long hp_http_request_len(const uint8_t *data, size_t len, size_t cap);

/*
 * The same for a request that arrives in pieces, asked again with the whole
 * input (which only grows) as each piece comes: the head is parsed again
 * only once an empty line has arrived, and once it is in only the body's
 * length is counted, so the work is linear in the bytes, not quadratic (a
 * head of 64 KiB of short lines sent a byte at a time took seconds).  The
 * answers are hp_http_request_len()'s, except 0 for -1 while a head that
 * looked like HTTP is still open.  A zeroed hp_http_framing starts a stream.
 */
struct hp_http_framing {
    size_t looked;            /* input length when an HTTP head was last seen still open */
    size_t need;              /* the request's whole length once its head is in */
};
long hp_http_request_len_more(struct hp_http_framing *st, const uint8_t *data, size_t len, size_t cap);

#endif
