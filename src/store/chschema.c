/*
 * chschema.c - the hot columns of the fleet table (see chschema.h).
 *
 * Kept small and table-driven: adding a field to reports means one line
 * here; init then creates (or adds) the column and every query that writes
 * @J{field} reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chquery.h"
#include "chschema.h"

const struct hp_chs_col hp_chs_cols[] = {
    { "username", HP_CHS_STR }, { "password", HP_CHS_STR }, { "input", HP_CHS_STR },
    { "url", HP_CHS_STR }, { "shasum", HP_CHS_STR }, { "type", HP_CHS_STR }, { "family", HP_CHS_STR },
    { "uri", HP_CHS_STR }, { "user_agent", HP_CHS_STR }, { "ja3", HP_CHS_STR }, { "ja4", HP_CHS_STR },
    { "hassh", HP_CHS_STR }, { "client", HP_CHS_STR }, { "src_cc", HP_CHS_STR },
    { "src_country", HP_CHS_STR }, { "src_asn", HP_CHS_INT }, { "src_as_org", HP_CHS_STR },
    { "cred_device", HP_CHS_STR }, { "cred_botnets", HP_CHS_JOINED }, { "attack_classes", HP_CHS_LIST },
    { "cves", HP_CHS_LIST }, { "owasp_iot", HP_CHS_LIST },
};
const size_t hp_chs_ncols = sizeof(hp_chs_cols) / sizeof(hp_chs_cols[0]);

_Static_assert(sizeof(hp_chs_cols) / sizeof(hp_chs_cols[0]) <= 32, "hp_chs_have has 32 bits");

int hp_chs_index(const char *name, size_t n)
{
    for (size_t i = 0; i < hp_chs_ncols; i++)
        if (strlen(hp_chs_cols[i].name) == n && memcmp(hp_chs_cols[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

void hp_chs_type(struct hp_buf *b, const struct hp_chs_col *c)
{
    static const char *const types[] = { "Nullable(String)", "Nullable(Int64)", "Array(String)",
                                         "Nullable(String)" };
    hp_buf_puts(b, types[c->kind]);
}

/* The string elements of a JSON list: every "..." without a quote or backslash inside
 * (SQL '"([^"\\\\]*)"' is the regular expression "([^"\\]*)"). */
#define CHS_LIST "extractAll(visitParamExtractRaw(data, '%s'), '\"([^\"\\\\\\\\]*)\"')"

void hp_chs_expr(struct hp_buf *b, const struct hp_chs_col *c)
{
    const char *f = c->name;                     /* a fixed name from the table: no quoting needed */
    switch (c->kind) {
    case HP_CHS_STR:
        hp_buf_printf(b, "if(visitParamHas(data, '%s'), visitParamExtractString(data, '%s'), NULL)", f, f);
        break;
    case HP_CHS_INT:
        hp_buf_printf(b, "if(visitParamHas(data, '%s'), visitParamExtractInt(data, '%s'), NULL)", f, f);
        break;
    case HP_CHS_LIST:
        hp_buf_printf(b, CHS_LIST, f);
        break;
    case HP_CHS_JOINED:
        hp_buf_printf(b, "if(visitParamHas(data, '%s'), arrayStringConcat(" CHS_LIST ", ', '), NULL)", f, f);
        break;
    }
}

bool hp_chs_field(struct hp_buf *b, const char *name, size_t n, hp_chs_have have)
{
    int i = hp_chs_index(name, n);
    if (i < 0)
        return false;
    if (have & (1u << i))
        hp_buf_puts(b, hp_chs_cols[i].name);
    else
        hp_chs_expr(b, &hp_chs_cols[i]);
    return true;
}

struct chs_detect {
    hp_chs_have have;
};

static int chs_row(void *arg, size_t ncols, const struct hp_chq_cell *cells)
{
    struct chs_detect *d = arg;
    if (ncols != 2 || !cells[0].s || !cells[1].s)
        return 0;
    int i = hp_chs_index(cells[0].s, cells[0].n);
    if (i < 0)
        return 0;
    /* a column of that name but of another type (someone's own) is not ours to read */
    struct hp_buf t;
    hp_buf_init(&t, 64);
    hp_chs_type(&t, &hp_chs_cols[i]);
    if (t.len == cells[1].n && memcmp(t.data, cells[1].s, t.len) == 0)
        d->have |= 1u << i;
    hp_buf_free(&t);
    return 0;
}

int hp_chs_detect(struct hp_chq *c, const char *database, const char *table, hp_chs_have *have, char *err,
                  size_t errlen)
{
    struct hp_buf sql;
    struct chs_detect d = { 0 };
    hp_buf_init(&sql, 4096);
    hp_buf_puts(&sql, "SELECT name, type FROM system.columns WHERE database = ");
    hp_chq_quote(&sql, database, strlen(database));
    hp_buf_puts(&sql, " AND table = ");
    hp_chq_quote(&sql, table, strlen(table));
    int rc = hp_buf_ok(&sql) ? hp_chq_query(c, hp_buf_cstr(&sql), chs_row, &d, err, errlen) : -1;
    hp_buf_free(&sql);
    *have = rc == 0 ? d.have : 0;
    return rc;
}

/* The sensor's country: transform(sensor, [names], [ccs], NULL-ish) from "NAME:CC NAME:CC". */
int hp_chs_sensor_country(const char *map, struct hp_buf *b, char *err, size_t errlen)
{
    struct hp_buf names, ccs;
    int n = 0;
    if (!map || !*map) {
        hp_buf_puts(b, "CAST(NULL AS Nullable(String))");
        return 0;
    }
    hp_buf_init(&names, 4096);
    hp_buf_init(&ccs, 4096);
    for (const char *p = map; *p;) {
        p += strspn(p, " ,\t");
        if (!*p)
            break;
        size_t len = strcspn(p, " ,\t");
        const char *colon = memchr(p, ':', len);
        if (!colon || colon == p || p + len - colon - 1 == 0 || p + len - colon - 1 > 3 || ++n > HP_CHS_MAX_SENSORS) {
            snprintf(err, errlen, "[report] sensor_country: want NAME:CC pairs separated by spaces");
            hp_buf_free(&names);
            hp_buf_free(&ccs);
            return -1;
        }
        hp_buf_puts(&names, n > 1 ? ", " : "");
        hp_chq_quote(&names, p, (size_t)(colon - p));
        hp_buf_puts(&ccs, n > 1 ? ", " : "");
        hp_chq_quote(&ccs, colon + 1, (size_t)(p + len - colon - 1));
        p += len;
    }
    hp_buf_printf(b, "nullIf(transform(sensor, [%s], [%s], ''), '')", hp_buf_cstr(&names), hp_buf_cstr(&ccs));
    hp_buf_free(&names);
    hp_buf_free(&ccs);
    return 0;
}
