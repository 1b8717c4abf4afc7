/*
 * adb.h - the Android Debug Bridge wire format: messages, services, the
 * sync sub-protocol and shell protocol v2 packets.  Pure parsers and
 * builders, exposed for the unit tests and the fuzzer; the protocol module
 * in adb.c (hp_proto_adb) drives them.  See adb.c and docs/adb.md.
 *
 * Every parser reads attacker bytes through an hp_rd and consumes only a
 * complete unit: HP_ADB_PARTIAL leaves the reader untouched so the caller
 * waits for more input; HP_ADB_BAD means the peer broke the protocol.
 */
#ifndef HP_PROTO_ADB_H
#define HP_PROTO_ADB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

struct hp_buf;

/* Message commands (little-endian ASCII, system/core/adb/adb.h). */
#define HP_ADB_SYNC 0x434e5953u
#define HP_ADB_CNXN 0x4e584e43u
#define HP_ADB_OPEN 0x4e45504fu
#define HP_ADB_OKAY 0x59414b4fu
#define HP_ADB_CLSE 0x45534c43u
#define HP_ADB_WRTE 0x45545257u
#define HP_ADB_AUTH 0x48545541u
#define HP_ADB_STLS 0x534c5453u

#define HP_ADB_VERSION_MIN  0x01000000u  /* data_check is the byte sum */
#define HP_ADB_VERSION_SKIP 0x01000001u  /* data_check is not used (Android 9+ hosts) */
#define HP_ADB_HDR_LEN 24
#define HP_ADB_PAYLOAD_V1 4096u
#define HP_ADB_PAYLOAD_MAX (1024u * 1024u)

enum { HP_ADB_OK = 0, HP_ADB_PARTIAL = 1, HP_ADB_BAD = -1 };

struct hp_adb_msg {
    uint32_t cmd, arg0, arg1, len, check, magic;
    const uint8_t *data;          /* len bytes, points into the reader's buffer */
};

/* Why hp_adb_msg_parse refused a message (for the close reason). */
enum hp_adb_msg_err { HP_ADB_E_NONE, HP_ADB_E_MAGIC, HP_ADB_E_LENGTH, HP_ADB_E_CHECK };

/*
 * One message: the 24-byte header, then data_length bytes.  The magic must
 * be cmd ^ 0xffffffff, the length at most max_payload (checked on the header
 * alone, so an oversized announcement is refused before its data arrives),
 * and when check_sum is set the data's byte sum must equal data_check, as
 * adbd checks before a v1.0.0.1 CNXN.  err (may be NULL) says why on BAD.
 */
int hp_adb_msg_parse(struct hp_rd *in, uint32_t max_payload, bool check_sum, struct hp_adb_msg *m,
                     enum hp_adb_msg_err *err);
uint32_t hp_adb_checksum(const void *data, size_t len);
/* Append one message; the checksum is filled when with_check. */
void hp_adb_msg_build(struct hp_buf *out, uint32_t cmd, uint32_t arg0, uint32_t arg1, const void *data,
                      size_t len, bool with_check);
/* "CNXN", "OPEN"...: four printable bytes, or "0x%08x" for others. */
void hp_adb_cmd_name(uint32_t cmd, char out[12]);

/* ---- services (the OPEN payload) ---------------------------------------------------- */

enum hp_adb_svc_kind {
    HP_ADB_SVC_OTHER, HP_ADB_SVC_SHELL, HP_ADB_SVC_EXEC, HP_ADB_SVC_SYNC, HP_ADB_SVC_REBOOT,
    HP_ADB_SVC_REMOUNT, HP_ADB_SVC_ROOT, HP_ADB_SVC_UNROOT, HP_ADB_SVC_TCPIP, HP_ADB_SVC_USB,
    HP_ADB_SVC_FORWARD, HP_ADB_SVC_REVERSE, HP_ADB_SVC_FRAMEBUFFER, HP_ADB_SVC_JDWP,
    HP_ADB_SVC_ABB, HP_ADB_SVC_DISABLE_VERITY,
};

enum hp_adb_pty { HP_ADB_PTY_AUTO, HP_ADB_PTY_RAW, HP_ADB_PTY_PTY };

struct hp_adb_service {
    enum hp_adb_svc_kind kind;
    bool v2;                      /* shell protocol v2 framing ("shell,v2,...:") */
    enum hp_adb_pty pty;
    const uint8_t *term;          /* TERM=... of a v2 shell, or NULL */
    size_t term_len;
    const uint8_t *arg;           /* after the first ':' (the command, the reboot target, the port) */
    size_t arg_len;
};

/* Classify a service name (no trailing NUL in len). */
void hp_adb_service_parse(const uint8_t *name, size_t len, struct hp_adb_service *s);
const char *hp_adb_service_kind_name(enum hp_adb_svc_kind k);

/* ---- sync: (adb push / pull / ls / stat) ------------------------------------------- */

#define HP_ADB_ID(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define HP_ADB_SYNC_PATH_MAX 1024u     /* adbd's limit on a request's path */
#define HP_ADB_SYNC_DATA_MAX (64u * 1024u)

/* One unit of the sync stream: a request with a path (STAT LIST SEND RECV
 * STA2 LST2 LIS2), DATA with its bytes, DONE/QUIT with a plain value. */
struct hp_adb_sync_unit {
    uint32_t id;
    uint32_t arg;                 /* path length / data length / DONE's mtime */
    const uint8_t *data;          /* path or DATA bytes (arg of them); NULL otherwise */
};

int hp_adb_sync_parse(struct hp_rd *in, struct hp_adb_sync_unit *u);

/* ---- shell protocol v2 ------------------------------------------------------------ */

enum { HP_ADB_SH_STDIN, HP_ADB_SH_STDOUT, HP_ADB_SH_STDERR, HP_ADB_SH_EXIT, HP_ADB_SH_CLOSE_STDIN,
       HP_ADB_SH_WINDOW };
#define HP_ADB_SH_PACKET_MAX (256u * 1024u)

int hp_adb_sh2_parse(struct hp_rd *in, uint8_t *id, const uint8_t **data, uint32_t *len);
void hp_adb_sh2_build(struct hp_buf *out, uint8_t id, const void *data, size_t len);

/* ---- device personalities ----------------------------------------------------------- */

struct hp_adb_device {
    const char *name;             /* ro.product.name (also the identity key's value) */
    const char *model;            /* ro.product.model */
    const char *device;           /* ro.product.device */
    const char *brand;            /* ro.product.brand */
    const char *manufacturer;     /* ro.product.manufacturer */
    const char *release;          /* ro.build.version.release */
    unsigned sdk;                 /* ro.build.version.sdk */
    const char *build_id;         /* ro.build.id */
    const char *platform;         /* ro.board.platform */
    const char *features;         /* NULL: a pre-N adbd (banner ends in ";\0", no features) */
    uint32_t version;             /* the adbd's A_VERSION */
    uint32_t max_payload;         /* the adbd's MAX_PAYLOAD */
};

const struct hp_adb_device *hp_adb_devices(size_t *n);
const struct hp_adb_device *hp_adb_device_find(const char *name);
/* The CNXN banner of a device: "device::ro.product.name=...;...;features=..."
 * (appended to out; old devices add the trailing NUL they sent). */
void hp_adb_banner(const struct hp_adb_device *d, struct hp_buf *out);
/* getprop's output for one property ("" when unknown), or every property
 * as "[key]: [value]" lines when key is NULL. */
void hp_adb_getprop(const struct hp_adb_device *d, const char *key, struct hp_buf *out);

#endif
