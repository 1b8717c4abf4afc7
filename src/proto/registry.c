/*
 * registry.c - every protocol module hanipo knows.
 * Adding a protocol: its file in src/proto/ and one line in this table.
 */
#include <string.h>
#include "proto.h"
#include "util.h"

extern const struct hp_proto hp_proto_trap;
extern const struct hp_proto hp_proto_ssdp;
extern const struct hp_proto hp_proto_sip;
extern const struct hp_proto hp_proto_ssh;
extern const struct hp_proto hp_proto_telnet;
extern const struct hp_proto hp_proto_http;
extern const struct hp_proto hp_proto_redis;
extern const struct hp_proto hp_proto_mongodb;
extern const struct hp_proto hp_proto_mysql;
extern const struct hp_proto hp_proto_postgresql;
extern const struct hp_proto hp_proto_ftp;
extern const struct hp_proto hp_proto_smtp;
extern const struct hp_proto hp_proto_mssql;
extern const struct hp_proto hp_proto_rdp;
extern const struct hp_proto hp_proto_smb;
extern const struct hp_proto hp_proto_vnc;
extern const struct hp_proto hp_proto_ami;
extern const struct hp_proto hp_proto_modbus;
extern const struct hp_proto hp_proto_s7comm;
extern const struct hp_proto hp_proto_elm327;
extern const struct hp_proto hp_proto_adb;
extern const struct hp_proto hp_proto_memcached;
extern const struct hp_proto hp_proto_quic;

static const struct hp_proto *const protocols[] = {
    &hp_proto_trap,
    &hp_proto_ssdp,
    &hp_proto_sip,
    &hp_proto_ssh,
    &hp_proto_telnet,
    &hp_proto_http,
    &hp_proto_redis,
    &hp_proto_mongodb,
    &hp_proto_mysql,
    &hp_proto_postgresql,
    &hp_proto_ftp,
    &hp_proto_smtp,
    &hp_proto_mssql,
    &hp_proto_rdp,
    &hp_proto_smb,
    &hp_proto_vnc,
    &hp_proto_ami,
    &hp_proto_modbus,
    &hp_proto_s7comm,
    &hp_proto_elm327,
    &hp_proto_adb,
    &hp_proto_memcached,
    &hp_proto_quic,
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
