/*
 * adb_msg.c - the ADB wire format: message framing, service names, the sync
 * sub-protocol, shell protocol v2 packets, and the device personalities
 * behind the CNXN banner.  See adb.h.
 *
 * Design.  Everything here is a pure function over an hp_rd or an hp_buf,
 * so the unit tests and the fuzzer reach every parser without a
 * connection.  Lengths from the wire are checked against a protocol limit
 * (max payload, sync path and data limits, the v2 packet limit) on the
 * header alone, before any data is waited for: a peer cannot make us buffer
 * more than the limit by announcing a huge unit.
 *
 * Device table: real Android TV boxes and IPTV set-top boxes - the kind
 * that is found with adbd listening on 5555 without authentication - with
 * their build facts and the feature list their adbd generation sends.
 */
#include <stdio.h>
#include <string.h>
#include "adb.h"
#include "buf.h"

/* ---- messages ---------------------------------------------------------------------- */

uint32_t hp_adb_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return sum;
}

int hp_adb_msg_parse(struct hp_rd *in, uint32_t max_payload, bool check_sum, struct hp_adb_msg *m,
                     enum hp_adb_msg_err *err)
{
    enum hp_adb_msg_err dummy;
    if (!err)
        err = &dummy;
    *err = HP_ADB_E_NONE;
    if (hp_rd_left(in) < HP_ADB_HDR_LEN)
        return HP_ADB_PARTIAL;
    struct hp_rd r = *in;
    m->cmd = hp_rd_u32le(&r);
    m->arg0 = hp_rd_u32le(&r);
    m->arg1 = hp_rd_u32le(&r);
    m->len = hp_rd_u32le(&r);
    m->check = hp_rd_u32le(&r);
    m->magic = hp_rd_u32le(&r);
    m->data = NULL;
    if (m->magic != (m->cmd ^ 0xffffffffu)) {
        *err = HP_ADB_E_MAGIC;
        return HP_ADB_BAD;
    }
    if (m->len > max_payload) {
        *err = HP_ADB_E_LENGTH;
        return HP_ADB_BAD;
    }
    if (hp_rd_left(&r) < m->len)
        return HP_ADB_PARTIAL;
    m->data = hp_rd_bytes(&r, m->len);
    if (!hp_rd_ok(&r))
        return HP_ADB_PARTIAL;
    if (check_sum && hp_adb_checksum(m->data, m->len) != m->check) {
        *err = HP_ADB_E_CHECK;
        return HP_ADB_BAD;
    }
    *in = r;
    return HP_ADB_OK;
}

static void put32(struct hp_buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, x, 4);
}

void hp_adb_msg_build(struct hp_buf *out, uint32_t cmd, uint32_t arg0, uint32_t arg1, const void *data,
                      size_t len, bool with_check)
{
    put32(out, cmd);
    put32(out, arg0);
    put32(out, arg1);
    put32(out, (uint32_t)len);
    put32(out, with_check ? hp_adb_checksum(data, len) : 0);
    put32(out, cmd ^ 0xffffffffu);
    if (len)
        hp_buf_put(out, data, len);
}

void hp_adb_cmd_name(uint32_t cmd, char out[12])
{
    char c[4] = { (char)cmd, (char)(cmd >> 8), (char)(cmd >> 16), (char)(cmd >> 24) };
    for (int i = 0; i < 4; i++)
        if (c[i] < 'A' || c[i] > 'Z') {
            snprintf(out, 12, "0x%08x", cmd);
            return;
        }
    memcpy(out, c, 4);
    out[4] = '\0';
}

/* ---- services ------------------------------------------------------------------------ */

static bool has_prefix(const uint8_t *p, size_t n, const char *pre)
{
    size_t l = strlen(pre);
    return n >= l && memcmp(p, pre, l) == 0;
}

/* "shell,v2,TERM=xterm,raw:cmd": the comma-separated arguments before ':'. */
static void shell_args(const uint8_t *p, size_t n, struct hp_adb_service *s)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != ',')
            j++;
        const uint8_t *a = p + i;
        size_t al = j - i;
        if (al == 2 && memcmp(a, "v2", 2) == 0)
            s->v2 = true;
        else if (al == 3 && memcmp(a, "raw", 3) == 0)
            s->pty = HP_ADB_PTY_RAW;
        else if (al == 3 && memcmp(a, "pty", 3) == 0)
            s->pty = HP_ADB_PTY_PTY;
        else if (al > 5 && memcmp(a, "TERM=", 5) == 0) {
            s->term = a + 5;
            s->term_len = al - 5;
        }
        i = j + 1;
    }
}

static const struct { const char *prefix; enum hp_adb_svc_kind kind; } svc_prefixes[] = {
    { "shell", HP_ADB_SVC_SHELL },        { "exec:", HP_ADB_SVC_EXEC },
    { "sync:", HP_ADB_SVC_SYNC },         { "reboot:", HP_ADB_SVC_REBOOT },
    { "remount:", HP_ADB_SVC_REMOUNT },   { "root:", HP_ADB_SVC_ROOT },
    { "unroot:", HP_ADB_SVC_UNROOT },     { "tcpip:", HP_ADB_SVC_TCPIP },
    { "usb:", HP_ADB_SVC_USB },           { "tcp:", HP_ADB_SVC_FORWARD },
    { "local:", HP_ADB_SVC_FORWARD },     { "localabstract:", HP_ADB_SVC_FORWARD },
    { "localreserved:", HP_ADB_SVC_FORWARD }, { "localfilesystem:", HP_ADB_SVC_FORWARD },
    { "dev:", HP_ADB_SVC_FORWARD },       { "reverse:", HP_ADB_SVC_REVERSE },
    { "framebuffer:", HP_ADB_SVC_FRAMEBUFFER }, { "jdwp", HP_ADB_SVC_JDWP },
    { "track-jdwp", HP_ADB_SVC_JDWP },    { "track-app", HP_ADB_SVC_JDWP },
    { "abb:", HP_ADB_SVC_ABB },           { "abb_exec:", HP_ADB_SVC_ABB },
    { "disable-verity:", HP_ADB_SVC_DISABLE_VERITY }, { "enable-verity:", HP_ADB_SVC_DISABLE_VERITY },
};

void hp_adb_service_parse(const uint8_t *name, size_t len, struct hp_adb_service *s)
{
    memset(s, 0, sizeof(*s));
    while (len > 0 && name[len - 1] == '\0')      /* the OPEN payload ends in NUL */
        len--;
    for (size_t i = 0; i < sizeof(svc_prefixes) / sizeof(svc_prefixes[0]); i++)
        if (has_prefix(name, len, svc_prefixes[i].prefix)) {
            s->kind = svc_prefixes[i].kind;
            break;
        }
    const uint8_t *colon = memchr(name, ':', len);
    if (colon) {
        s->arg = colon + 1;
        s->arg_len = len - (size_t)(colon + 1 - name);
    }
    if (s->kind == HP_ADB_SVC_SHELL) {
        /* "shell:" and "shell,ARGS:"; "shellfoo" is no service */
        if (len > 5 && name[5] != ':' && name[5] != ',')
            s->kind = HP_ADB_SVC_OTHER;
        else if (!colon)
            s->kind = len == 5 ? HP_ADB_SVC_SHELL : HP_ADB_SVC_OTHER;
        else if (name[5] == ',')
            shell_args(name + 6, (size_t)(colon - (name + 6)), s);
    }
}

const char *hp_adb_service_kind_name(enum hp_adb_svc_kind k)
{
    static const char *const names[] = {
        "other", "shell", "exec", "sync", "reboot", "remount", "root", "unroot", "tcpip", "usb",
        "forward", "reverse", "framebuffer", "jdwp", "abb", "verity",
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "other";
}

/* ---- sync ------------------------------------------------------------------------------ */

int hp_adb_sync_parse(struct hp_rd *in, struct hp_adb_sync_unit *u)
{
    if (hp_rd_left(in) < 8)
        return HP_ADB_PARTIAL;
    struct hp_rd r = *in;
    u->id = hp_rd_u32le(&r);
    u->arg = hp_rd_u32le(&r);
    u->data = NULL;
    uint32_t max;
    switch (u->id) {
    case HP_ADB_ID('S', 'T', 'A', 'T'): case HP_ADB_ID('L', 'I', 'S', 'T'):
    case HP_ADB_ID('S', 'E', 'N', 'D'): case HP_ADB_ID('R', 'E', 'C', 'V'):
    case HP_ADB_ID('S', 'T', 'A', '2'): case HP_ADB_ID('L', 'S', 'T', '2'):
    case HP_ADB_ID('L', 'I', 'S', '2'):
        max = HP_ADB_SYNC_PATH_MAX;
        break;
    case HP_ADB_ID('D', 'A', 'T', 'A'):
        max = HP_ADB_SYNC_DATA_MAX;
        break;
    case HP_ADB_ID('D', 'O', 'N', 'E'): case HP_ADB_ID('Q', 'U', 'I', 'T'):
        *in = r;
        return HP_ADB_OK;
    default:
        return HP_ADB_BAD;
    }
    if (u->arg > max)
        return HP_ADB_BAD;
    if (hp_rd_left(&r) < u->arg)
        return HP_ADB_PARTIAL;
    u->data = hp_rd_bytes(&r, u->arg);
    if (!hp_rd_ok(&r))
        return HP_ADB_PARTIAL;
    *in = r;
    return HP_ADB_OK;
}

/* ---- shell protocol v2 -------------------------------------------------------------- */

int hp_adb_sh2_parse(struct hp_rd *in, uint8_t *id, const uint8_t **data, uint32_t *len)
{
    if (hp_rd_left(in) < 5)
        return HP_ADB_PARTIAL;
    struct hp_rd r = *in;
    *id = hp_rd_u8(&r);
    *len = hp_rd_u32le(&r);
    if (*len > HP_ADB_SH_PACKET_MAX)
        return HP_ADB_BAD;
    if (hp_rd_left(&r) < *len)
        return HP_ADB_PARTIAL;
    *data = hp_rd_bytes(&r, *len);
    if (!hp_rd_ok(&r))
        return HP_ADB_PARTIAL;
    *in = r;
    return HP_ADB_OK;
}

void hp_adb_sh2_build(struct hp_buf *out, uint8_t id, const void *data, size_t len)
{
    hp_buf_putc(out, id);
    put32(out, (uint32_t)len);
    if (len)
        hp_buf_put(out, data, len);
}

/* ---- devices ------------------------------------------------------------------------------ */

/* Feature lists in the order each adbd generation sends them. */
#define FEAT_N "cmd,shell_v2"                                      /* Android 7 */
#define FEAT_O "cmd,stat_v2,shell_v2"                              /* Android 8 */
#define FEAT_P "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir"       /* Android 9 */
#define FEAT_Q FEAT_P ",apex,abb,fixed_push_symlink_timestamp,abb_exec,remount_shell"

static const struct hp_adb_device devices[] = {
    { "p281", "MXQ Pro 4K", "p281", "MXQ", "Amlogic", "7.1.2", 25, "NHG47L", "gxl", FEAT_N,
      HP_ADB_VERSION_MIN, 256 * 1024 },
    { "q201_9377", "X96mini", "q201_9377", "X96", "Amlogic", "7.1.2", 25, "NHG47L", "gxl", FEAT_N,
      HP_ADB_VERSION_MIN, 256 * 1024 },
    { "rk322x_box", "MXQ-4K", "rk322x_box", "rockchip", "rockchip", "7.1.2", 25, "NHG47K", "rk322x", FEAT_N,
      HP_ADB_VERSION_MIN, 256 * 1024 },
    { "rk3328_box", "rk3328_box", "rk3328_box", "rockchip", "rockchip", "8.1.0", 27, "OPM8.190605.005",
      "rk3328", FEAT_O, HP_ADB_VERSION_MIN, 256 * 1024 },
    { "rk3318_box", "H96 MAX", "rk3318_box", "rockchip", "rockchip", "9", 28, "PQ1A.190105.004", "rk3328",
      FEAT_P, HP_ADB_VERSION_SKIP, 1024 * 1024 },
    { "u212", "X96Max", "u212", "Amlogic", "Amlogic", "9", 28, "PPR1.180610.011", "g12a", FEAT_P,
      HP_ADB_VERSION_SKIP, 1024 * 1024 },
    { "trident", "TX6", "trident", "Allwinner", "Allwinner", "9", 28, "PPR1.180610.011", "cupid", FEAT_P,
      HP_ADB_VERSION_SKIP, 1024 * 1024 },
    { "ampere", "X96 Air", "ampere", "Amlogic", "Amlogic", "10", 29, "QP1A.190711.020", "sm1", FEAT_Q,
      HP_ADB_VERSION_SKIP, 1024 * 1024 },
    { "b860h", "B860H", "b860h", "ZTE", "ZTE", "4.4.2", 19, "KOT49H", "gxbaby", NULL,
      HP_ADB_VERSION_MIN, 4096 },
};

const struct hp_adb_device *hp_adb_devices(size_t *n)
{
    *n = sizeof(devices) / sizeof(devices[0]);
    return devices;
}

const struct hp_adb_device *hp_adb_device_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(devices) / sizeof(devices[0]); i++)
        if (strcmp(devices[i].name, name) == 0)
            return &devices[i];
    return NULL;
}

void hp_adb_banner(const struct hp_adb_device *d, struct hp_buf *out)
{
    hp_buf_printf(out, "device::ro.product.name=%s;ro.product.model=%s;ro.product.device=%s;", d->name,
                  d->model, d->device);
    if (d->features)
        hp_buf_printf(out, "features=%s", d->features);
    else
        hp_buf_putc(out, '\0');
}

/* The properties getprop shows, derived from the device (value NULL: end). */
static void prop_value(const struct hp_adb_device *d, size_t i, const char **key, char *val, size_t vlen)
{
    static const char *const keys[] = {
        "ro.board.platform", "ro.build.display.id", "ro.build.fingerprint", "ro.build.id",
        "ro.build.type", "ro.build.version.release", "ro.build.version.sdk", "ro.debuggable",
        "ro.product.board", "ro.product.brand", "ro.product.cpu.abi", "ro.product.device",
        "ro.product.manufacturer", "ro.product.model", "ro.product.name", "ro.secure",
        "service.adb.tcp.port", "sys.boot_completed",
    };
    *key = i < sizeof(keys) / sizeof(keys[0]) ? keys[i] : NULL;
    val[0] = '\0';
    switch (i) {
    case 0: snprintf(val, vlen, "%s", d->platform); break;
    case 1: snprintf(val, vlen, "%s-userdebug %s %s test-keys", d->name, d->release, d->build_id); break;
    case 2:
        snprintf(val, vlen, "%s/%s/%s:%s/%s/20200101:userdebug/test-keys", d->brand, d->name, d->device,
                 d->release, d->build_id);
        break;
    case 3: snprintf(val, vlen, "%s", d->build_id); break;
    case 4: snprintf(val, vlen, "userdebug"); break;
    case 5: snprintf(val, vlen, "%s", d->release); break;
    case 6: snprintf(val, vlen, "%u", d->sdk); break;
    case 7: snprintf(val, vlen, "1"); break;
    case 8: snprintf(val, vlen, "%s", d->platform); break;
    case 9: snprintf(val, vlen, "%s", d->brand); break;
    case 10: snprintf(val, vlen, "%s", d->sdk >= 28 ? "arm64-v8a" : "armeabi-v7a"); break;
    case 11: snprintf(val, vlen, "%s", d->device); break;
    case 12: snprintf(val, vlen, "%s", d->manufacturer); break;
    case 13: snprintf(val, vlen, "%s", d->model); break;
    case 14: snprintf(val, vlen, "%s", d->name); break;
    case 15: snprintf(val, vlen, "0"); break;
    case 16: snprintf(val, vlen, "5555"); break;
    case 17: snprintf(val, vlen, "1"); break;
    default: break;
    }
}

void hp_adb_getprop(const struct hp_adb_device *d, const char *key, struct hp_buf *out)
{
    char val[256];
    const char *k;
    for (size_t i = 0; prop_value(d, i, &k, val, sizeof(val)), k; i++) {
        if (!key)
            hp_buf_printf(out, "[%s]: [%s]\n", k, val);
        else if (strcmp(k, key) == 0) {
            hp_buf_puts(out, val);
            return;
        }
    }
}
