/*
 * mongodb.h - the MongoDB emulation (src/proto/mongodb.c), split so that
 * unit tests and the fuzzer can reach the BSON reader/writer and drive a
 * whole session without a socket.
 */
#ifndef HP_MONGODB_H
#define HP_MONGODB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "event.h"
#include "reader.h"

#define HP_MONGO_MAX_MSG    (4 * 1024 * 1024)   /* one wire message (the server's is 48 MB) */
#define HP_MONGO_MAX_DEPTH  32                  /* nesting of BSON documents */

/* ---- BSON reading: elements of one document, through hp_rd ---- */

enum {
    HP_BSON_DOUBLE = 0x01, HP_BSON_STRING = 0x02, HP_BSON_DOC = 0x03, HP_BSON_ARRAY = 0x04,
    HP_BSON_BINARY = 0x05, HP_BSON_UNDEF = 0x06, HP_BSON_OID = 0x07, HP_BSON_BOOL = 0x08,
    HP_BSON_DATE = 0x09, HP_BSON_NULL = 0x0a, HP_BSON_REGEX = 0x0b, HP_BSON_DBPTR = 0x0c,
    HP_BSON_CODE = 0x0d, HP_BSON_SYMBOL = 0x0e, HP_BSON_CODEWS = 0x0f, HP_BSON_INT32 = 0x10,
    HP_BSON_TS = 0x11, HP_BSON_INT64 = 0x12, HP_BSON_DEC128 = 0x13, HP_BSON_MINKEY = 0xff,
    HP_BSON_MAXKEY = 0x7f,
};

struct hp_bson_el {
    uint8_t type;
    const char *name;          /* NUL-terminated inside the document */
    size_t nlen;
    const uint8_t *val;        /* the element's value bytes */
    size_t vlen;
};

/* Take one document (int32 length, elements, NUL) from r; body covers the
 * elements.  false on a malformed or short document. */
bool hp_bson_doc(struct hp_rd *r, struct hp_rd *body);
/* Next element of a body; false at the end or on malformed input (then
 * body's error flag is set). */
bool hp_bson_next(struct hp_rd *body, struct hp_bson_el *el);
/* The whole document well-formed (every element, nested ones up to depth)? */
bool hp_bson_valid(const uint8_t *doc, size_t len, int depth);
/* Lookup by name in a document (first match). */
bool hp_bson_find(const uint8_t *doc, size_t len, const char *name, struct hp_bson_el *el);
/* Values; string and nested-document accessors check the element type. */
bool hp_bson_str(const struct hp_bson_el *el, const char **s, size_t *n);
bool hp_bson_sub(const struct hp_bson_el *el, const uint8_t **doc, size_t *len);   /* doc or array */
bool hp_bson_bin(const struct hp_bson_el *el, const uint8_t **p, size_t *n);
double hp_bson_num(const struct hp_bson_el *el);    /* double/int32/int64/bool, else 0 */
/* Relaxed extended JSON text of a document into b (depth-capped). */
void hp_bson_json(const uint8_t *doc, size_t len, struct hp_buf *b, int depth);

/* ---- a connection ---- */

struct hp_mongo_conf {
    char *version;             /* configured claim; NULL: the sensor's identity */
    uint16_t port;
};

struct hp_mongo_sess;

int hp_mongo_set_version(const char *version);   /* "4.4.29", "5.0.26", "6.0.14"; -1 if unknown */
const char *hp_mongo_version(void);
int hp_mongo_max_wire(void);

struct hp_mongo_sess *hp_mongo_sess_new(const struct hp_mongo_conf *conf, const struct hp_evctx *ctx);
void hp_mongo_sess_free(struct hp_mongo_sess *s);
/* Consume complete messages, append replies to out.  Returns true when the
 * connection must be closed once out is sent (HTTP probe, malformed message). */
bool hp_mongo_feed(struct hp_mongo_sess *s, struct hp_rd *in, struct hp_buf *out);
/* The connection ends: a SCRAM attempt still pending is logged. */
void hp_mongo_sess_end(struct hp_mongo_sess *s);

#endif
