/*
 * fuzz_pgsql_ext.c - the PostgreSQL look-alike's extended query protocol
 * (src/proto/pgsql_ext.c) after a login, with the framing done here so
 * that the fuzzer explores message bodies instead of lengths.
 *
 * A fixed startup (user postgres, database postgres) and cleartext
 * password reach the logged-in state (accept_after 1).  Then byte 0 picks
 * the release and the chunk size the stream is fed in, and the rest is a
 * sequence of records: a type byte (P/B/D/E/S/C/H, its value modulo 7;
 * bit 7 set: a two-byte length follows, else one), the length, and that
 * many body bytes, each framed as type, big-endian length + 4, body.
 * Checked after every chunk: never more consumed than given; the answer is
 * a sequence of backend messages of known types, each with a length of at
 * least 4 that ends inside the output; ReadyForQuery is 5 bytes with
 * status I, T or E; what is sendable never exceeds what is written.
 */
#include "fuzz_pgsql_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_evctx ctx = { .session = "000000000003", .protocol = "postgresql", .service = "f",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                               .src_port = 1, .dst_port = 5432 };

/* The records of data[0..size) as framed messages in in. */
static void frame(const uint8_t *data, size_t size, struct hp_buf *in)
{
    static const char kinds[] = "PBDESCH";
    size_t i = 0;
    while (i < size) {
        uint8_t k = data[i++];
        size_t len = 0;
        if (i < size)
            len = data[i++];
        if ((k & 0x80) && i < size)
            len = len << 8 | data[i++];
        if (len > size - i)
            len = size - i;
        typed(in, kinds[(k & 0x7f) % 7], data + i, len);
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg_fuzz_open(&cf, &s, &in, data[0], &ctx);
    frame(data + 1, size - 1, &in);
    size_t chunk = 1 + (data[0] >> 1) * 3, off = 0, pending = 0;
    while (off + pending < in.len && !s.closing) {
        size_t n = in.len - off - pending < chunk ? in.len - off - pending : chunk;
        pending += n;
        size_t used = hp_pg_input(&s, in.data + off, pending);
        CHECK(used <= pending);
        off += used;
        pending -= used;
        check_messages(&s.out);
        CHECK(s.sendable <= s.out.len);
    }
    pg_fuzz_close(&cf, &s, &in);
    return 0;
}
