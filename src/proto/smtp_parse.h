/*
 * smtp_parse.h - the pure parts of the SMTP module (src/proto/smtp.c):
 * command lines, MAIL FROM / RCPT TO paths, base64 and AUTH PLAIN, the
 * DATA terminator with dot-unstuffing, header lookup.  Kept apart from the
 * connection so that unit tests and the fuzzer reach them directly; every
 * read of peer bytes goes through hp_rd, every output is bounded.
 */
#ifndef HP_SMTP_PARSE_H
#define HP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_rd;

#define SMTP_LINE_MAX   4096      /* command line (RFC 5321: 512; Postfix accepts 2048+) */
#define SMTP_ADDR_MAX   320       /* local@domain: 64 + 1 + 255 */
#define SMTP_VERB_MAX   12

struct smtp_cmd {
    char verb[SMTP_VERB_MAX];     /* upper-cased, cut */
    bool verb_cut;
    const uint8_t *arg;           /* after the first run of spaces */
    size_t arglen;
};

void smtp_cmd_split(const uint8_t *line, size_t len, struct smtp_cmd *out);

/*
 * "FROM:<a@b> SIZE=12" / "TO: <a@b>" / "FROM:a@b": the keyword (kw,
 * "FROM:" or "TO:", case-insensitive), optional blanks, the path in angle
 * brackets (source routes "@x,@y:" dropped) or bare up to a blank.
 * addr receives the address ("" for the null path <>), params the rest.
 * 0, or -1 when malformed (501).
 */
int smtp_parse_path(const uint8_t *arg, size_t len, const char *kw, char *addr, size_t addrlen,
                    const uint8_t **params, size_t *paramslen);

/*
 * The next line of r, as hp_rd_line(r, max, line, len), for input that
 * arrives in pieces and is offered again from the same start until a line
 * is taken: the first *seen bytes were searched by an earlier call and hold
 * no LF, so only the rest is searched (a line trickled one byte per read
 * costs its length, not its length squared).  *seen is set to the bytes now
 * searched when no line is found, to 0 when one is taken; the caller resets
 * it when it consumes bytes some other way.
 */
bool smtp_line(struct hp_rd *r, size_t max, size_t *seen, const uint8_t **line, size_t *len);

/* The domain of an address (after the last '@'), or NULL. */
const char *smtp_addr_domain(const char *addr);
/* Domain names equal, ignoring case and one trailing dot. */
bool smtp_domain_eq(const char *a, const char *b);

/* Standard base64 (padding optional, blanks refused): decoded bytes into
 * out (at most outlen).  Returns the length, or -1 on bad input / no room.
 * "=" alone (an empty initial response) decodes to 0 bytes. */
long smtp_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outlen);
/* Base64 of data into out (NUL-terminated); false if it does not fit. */
bool smtp_b64_encode(const void *data, size_t n, char *out, size_t outlen);

/* AUTH PLAIN: "authzid\0authcid\0passwd" split in place (pointers into
 * dec).  false unless there are exactly two NULs. */
struct smtp_plain {
    const uint8_t *authzid, *user, *pass;
    size_t authzidlen, userlen, passlen;
};
bool smtp_auth_plain(const uint8_t *dec, size_t n, struct smtp_plain *out);

/*
 * One line of a DATA body (without its CRLF): returns true if it is the
 * terminating "." line; otherwise the line with dot-unstuffing ("..x" ->
 * ".x") is given back in *out / *outlen.
 */
bool smtp_data_line(const uint8_t *line, size_t len, const uint8_t **out, size_t *outlen);

/* The value of the first header called name in the message's header
 * section (up to the first empty line), unfolded, into out (NUL-terminated,
 * cut to outlen - 1).  false when absent. */
bool smtp_header(const uint8_t *msg, size_t n, const char *name, char *out, size_t outlen);

#endif
