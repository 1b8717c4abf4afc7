/*
 * fuzz_pgsql_txn.c - transaction blocks of the PostgreSQL look-alike
 * (src/proto/pgsql_txn.c): BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE,
 * ROLLBACK TO and errors inside blocks, in any order.
 *
 * A fixed startup and cleartext password reach the logged-in state.  Then
 * byte 0 picks the release, and the rest is split at '\n' into simple
 * Query messages, one after the other (a line may hold several statements
 * separated by ';'); every fourth line's Query is sent without its NUL,
 * which the server refuses.  Checked after each: everything consumed; the
 * answer is a sequence of backend messages of known types ending in one
 * ReadyForQuery whose status is I, T or E and is the session's; savepoints
 * exist only inside a block and never more than HP_PG_SAVEPOINTS.
 */
#include "fuzz_pgsql_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_evctx ctx = { .session = "000000000004", .protocol = "postgresql", .service = "f",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                               .src_port = 1, .dst_port = 5432 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg_fuzz_open(&cf, &s, &in, data[0], &ctx);
    const uint8_t *p = data + 1, *end = data + size;
    for (unsigned line = 0; p < end && !s.closing; line++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        hp_buf_reset(&in);
        hp_buf_reset(&s.out);
        bool nul = line % 4 != 3;
        hp_buf_putc(&in, 'Q');
        be32(&in, (uint32_t)(n + nul + 4));
        hp_buf_put(&in, p, n);
        if (nul)
            hp_buf_putc(&in, 0);
        CHECK(hp_pg_input(&s, in.data, in.len) == in.len);
        check_messages(&s.out);
        if (!s.closing) {
            CHECK(s.out.len >= 6 && s.out.data[s.out.len - 6] == 'Z');
            CHECK(s.out.data[s.out.len - 1] == (uint8_t)s.txn);
        }
        CHECK(s.txn == 'I' || s.txn == 'T' || s.txn == 'E');
        CHECK(s.nsavepoints <= HP_PG_SAVEPOINTS && (s.nsavepoints == 0 || s.txn != 'I'));
        p += n + (nl != NULL);
    }
    pg_fuzz_close(&cf, &s, &in);
    return 0;
}
