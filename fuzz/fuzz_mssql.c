/*
 * fuzz_mssql.c - the TDS parsers of the mssql module (src/proto/mssql.c):
 * PRELOGIN options, LOGIN7 (offsets/lengths, password de-obfuscation,
 * SSPI blob), the TDS 4.2 login record, batch text and xp_cmdshell
 * extraction.  Invariants: strings stay within their arrays, the SSPI blob
 * lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/mssql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_mssql_prelogin pl;
    (void)hp_mssql_parse_prelogin(data, size, &pl);
    if (strlen(pl.instance) >= sizeof(pl.instance))
        abort();
    static struct hp_mssql_login l;
    if (hp_mssql_parse_login7(data, size, &l) == 0) {
        if (l.sspi_len && (l.sspi < data || l.sspi + l.sspi_len > data + size))
            abort();
        if (strlen(l.user) >= sizeof(l.user) || l.password_len >= sizeof(l.password))
            abort();
    }
    (void)hp_mssql_parse_login42(data, size, &l);
    static char sql[8192], cmd[1024];
    for (int t72 = 0; t72 < 2; t72++) {
        size_t n = hp_mssql_batch_text(data, size, t72, sql, sizeof(sql));
        if (n >= sizeof(sql))
            abort();
        if (hp_mssql_xp_cmdshell(sql, n, cmd, sizeof(cmd)) >= sizeof(cmd))
            abort();
    }
    if (hp_mssql_xp_cmdshell((const char *)data, size, cmd, sizeof(cmd)) >= sizeof(cmd))
        abort();
    return 0;
}
