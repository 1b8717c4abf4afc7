/*
 * fuzz_chquery.c - libFuzzer harness for the ClickHouse answer parser and
 * store-URL parser (src/store/chquery.c).
 *
 * The input is a TabSeparated answer as a server (or anyone on the path to
 * it) could send.  Every cell handed to the row callback must be NUL
 * terminated at its length and no longer than the input; the parse must end
 * with 0 or -1.  The same bytes, cut at the first NUL, are also parsed as a
 * --store URL, whose fields must come back NUL terminated in their buffers,
 * and quoted as a SQL literal, which must hold no quote but the two ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/chquery.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static size_t g_len;

static int on_row(void *arg, size_t ncols, const struct hp_chq_cell *cells)
{
    CHECK(ncols >= 1 && ncols <= HP_CHQ_MAX_COLS);
    for (size_t i = 0; i < ncols; i++) {
        if (!cells[i].s)
            continue;
        CHECK(cells[i].n <= g_len);
        CHECK(cells[i].s[cells[i].n] == '\0');
        volatile char sink = 0;
        for (size_t k = 0; k < cells[i].n; k++)
            sink ^= cells[i].s[k];
        (void)sink;
    }
    (*(size_t *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    size_t rows = 0;
    g_len = len;
    int rc = hp_chq_parse_tsv(data, len, on_row, &rows);
    CHECK(rc == 0 || rc == -1);

    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = '\0';
    struct hp_chq_url u;
    char err[256];
    if (hp_chq_parse_url(s, &u, err, sizeof(err)) == 0) {
        CHECK(memchr(u.user, '\0', sizeof(u.user)) && memchr(u.password, '\0', sizeof(u.password)));
        CHECK(strlen(u.host) > 0 && memchr(u.database, '\0', sizeof(u.database)) && u.port > 0);
    }
    struct hp_buf b;
    hp_buf_init(&b, 8 * len + 16);
    hp_chq_quote(&b, (const char *)data, len);
    CHECK(hp_buf_ok(&b) && b.len >= 2 && b.data[0] == '\'' && b.data[b.len - 1] == '\'');
    CHECK(memchr(b.data + 1, '\'', b.len - 2) == NULL && memchr(b.data + 1, '\0', b.len - 2) == NULL);
    hp_buf_free(&b);
    free(s);
    return 0;
}
