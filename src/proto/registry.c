/*
 * registry.c - every protocol module hanipo knows.
 * Adding a protocol: its file in src/proto/ and one line in this table.
 */
#include <string.h>
#include "proto.h"
#include "util.h"

extern const struct hp_proto hp_proto_trap;
extern const struct hp_proto hp_proto_ssh;
extern const struct hp_proto hp_proto_telnet;
extern const struct hp_proto hp_proto_http;

static const struct hp_proto *const protocols[] = {
    &hp_proto_trap,
    &hp_proto_ssh,
    &hp_proto_telnet,
    &hp_proto_http,
};

const struct hp_proto *hp_proto_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(protocols); i++)
        if (strcmp(protocols[i]->name, name) == 0)
            return protocols[i];
    return NULL;
}

const struct hp_proto *const *hp_proto_all(size_t *n)
{
    *n = HP_ARRAY_LEN(protocols);
    return protocols;
}
