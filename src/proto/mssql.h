/*
 * mssql.h - the TDS parsers of the "mssql" module, exported for the unit
 * tests and the fuzz harness (the module itself is hp_proto_mssql).
 */
#ifndef HP_MSSQL_H
#define HP_MSSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_MSSQL_STR_MAX 256          /* UTF-8 bytes kept of a LOGIN7 string */

struct hp_mssql_prelogin {
    bool has_version;
    uint8_t major, minor;
    uint16_t build, subbuild;
    int encryption;                   /* -1 absent, else 0 off, 1 on, 2 not supported, 3 required */
    char instance[64];
    bool has_mars, has_fedauth, has_threadid;
    unsigned noptions;
};

/* PRELOGIN payload (after the 8-byte packet header).  0, or -1 if malformed. */
int hp_mssql_parse_prelogin(const uint8_t *p, size_t n, struct hp_mssql_prelogin *out);

struct hp_mssql_login {
    uint32_t tds_version;             /* as the client sent it, e.g. 0x74000004 */
    uint32_t packet_size;
    uint32_t client_pid;
    bool integrated;                  /* fIntSecurity: SSPI (NTLM/Kerberos) instead of a password */
    char host[HP_MSSQL_STR_MAX];
    char user[HP_MSSQL_STR_MAX];
    char password[HP_MSSQL_STR_MAX];
    size_t password_len;              /* may hold NULs */
    char app[HP_MSSQL_STR_MAX];
    char server[HP_MSSQL_STR_MAX];
    char library[HP_MSSQL_STR_MAX];
    char language[HP_MSSQL_STR_MAX];
    char database[HP_MSSQL_STR_MAX];
    const uint8_t *sspi;              /* into the parsed payload */
    size_t sspi_len;
};

/* LOGIN7 payload.  0, or -1 if malformed.  The password is de-obfuscated. */
int hp_mssql_parse_login7(const uint8_t *p, size_t n, struct hp_mssql_login *out);
/* TDS 4.2 LOGIN (packet type 2; old tools such as hydra's mssql module):
 * host, user and password only.  0, or -1 if too short. */
int hp_mssql_parse_login42(const uint8_t *p, size_t n, struct hp_mssql_login *out);
/* A LOGIN7 password field in place: XOR 0xA5, then swap the nibbles. */
void hp_mssql_deobfuscate(uint8_t *p, size_t n);
/* SQL batch payload to UTF-8 text (ALL_HEADERS skipped).  Returns length. */
size_t hp_mssql_batch_text(const uint8_t *p, size_t n, bool tds72, char *out, size_t outlen);
/* The command of an xp_cmdshell call in a batch ('...' or N'...', ''
 * unescaped); 0 if there is none. */
size_t hp_mssql_xp_cmdshell(const char *sql, size_t n, char *out, size_t outlen);

#endif
