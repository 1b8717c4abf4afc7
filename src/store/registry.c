/*
 * registry.c - the output kinds a [output NAME] section may name.
 * Adding an output: its file in src/store/ and one line here.
 */
#include <string.h>
#include "output.h"
#include "util.h"

extern const struct hp_output_ops hp_output_jsonl;
extern const struct hp_output_ops hp_output_sqlite;
extern const struct hp_output_ops hp_output_syslog;
extern const struct hp_output_ops hp_output_clickhouse;

static const struct hp_output_ops *const output_kinds[] = {
    &hp_output_jsonl,
    &hp_output_sqlite,
    &hp_output_syslog,
    &hp_output_clickhouse,
};

const struct hp_output_ops *hp_output_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(output_kinds); i++)
        if (strcmp(output_kinds[i]->name, name) == 0)
            return output_kinds[i];
    return NULL;
}
