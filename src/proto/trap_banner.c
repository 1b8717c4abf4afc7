/*
 * trap_banner.c - banners the trap builds from the sensor's personality.
 * See trap_banner.h.
 *
 * ActiveMQ: OpenWireFormat.marshal() of the broker's WireFormatInfo with
 * loose encoding, as a 5.15 broker sends it on accept: a 4-byte size, the
 * type (1), the magic "ActiveMQ", the OpenWire version (12), then the
 * properties as a byte sequence (present flag, 4-byte length) holding
 * MarshallingSupport.marshalPrimitiveMap(): an entry count, and per entry
 * a writeUTF() name, a type byte (1 boolean, 5 int, 6 long, 9 string) and
 * the value.  The entries come in the iteration order of the broker's
 * HashMap of 16 buckets, which follows from Java's String.hashCode and so
 * is the same on every broker.  nmap's apachemq signature reads
 * ProviderName, PlatformDetails and ProviderVersion from it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "shell/persona.h"
#include "trap_banner.h"

int hp_trap_banner_kind(const char *name)
{
    if (strcmp(name, "activemq") == 0)
        return HP_TRAP_BANNER_ACTIVEMQ;
    if (strcmp(name, "none") == 0)
        return HP_TRAP_BANNER_NONE;
    return -1;
}

static void put_u64(struct hp_buf *b, uint64_t v)
{
    hp_buf_put_u32be(b, (uint32_t)(v >> 32));
    hp_buf_put_u32be(b, (uint32_t)v);
}

/* DataOutput.writeUTF of ASCII text. */
static void put_utf(struct hp_buf *b, const char *s)
{
    size_t n = strlen(s);
    hp_buf_put_u16be(b, (uint16_t)n);
    hp_buf_put(b, s, n);
}

static void prop_bool(struct hp_buf *b, const char *name, bool v)
{
    put_utf(b, name);
    hp_buf_putc(b, 1);
    hp_buf_putc(b, v ? 1 : 0);
}

static void prop_int(struct hp_buf *b, const char *name, uint32_t v)
{
    put_utf(b, name);
    hp_buf_putc(b, 5);
    hp_buf_put_u32be(b, v);
}

static void prop_long(struct hp_buf *b, const char *name, uint64_t v)
{
    put_utf(b, name);
    hp_buf_putc(b, 6);
    put_u64(b, v);
}

static void prop_string(struct hp_buf *b, const char *name, const char *v)
{
    put_utf(b, name);
    hp_buf_putc(b, 9);
    put_utf(b, v);
}

static bool activemq(struct hp_buf *out)
{
    const struct hp_persona *p = hp_persona_get("debian");
    char platform[256];
    /* "JVM: java.version, java.vm.version, java.vendor, OS: os.name, os.version, os.arch":
     * Oracle's Java 8 on the Debian box the SSH shell shows. */
    int n = snprintf(platform, sizeof(platform), "JVM: 1.8.0_371, 25.371-b11, Oracle Corporation, OS: Linux, %s, amd64",
                     p && p->kernel_release[0] ? p->kernel_release : "6.1.0-13-amd64");
    if (n < 0 || (size_t)n >= sizeof(platform))
        return false;
    struct hp_buf map;
    hp_buf_init(&map, 4096);
    hp_buf_put_u32be(&map, 12);
    prop_bool(&map, "TcpNoDelayEnabled", true);
    prop_int(&map, "CacheSize", 1024);
    prop_bool(&map, "SizePrefixDisabled", false);
    prop_string(&map, "ProviderName", "ActiveMQ");
    prop_bool(&map, "StackTraceEnabled", true);
    prop_string(&map, "PlatformDetails", platform);
    prop_bool(&map, "CacheEnabled", true);
    prop_bool(&map, "TightEncodingEnabled", true);
    prop_long(&map, "MaxFrameSize", INT64_MAX);
    prop_long(&map, "MaxInactivityDuration", 30000);
    prop_long(&map, "MaxInactivityDurationInitalDelay", 10000);    /* sic: ActiveMQ's spelling */
    prop_string(&map, "ProviderVersion", "5.15.15");
    /* size (excluding itself) = type 1 + magic 8 + version 4 + present 1 + length 4 + map */
    hp_buf_put_u32be(out, (uint32_t)(1 + 8 + 4 + 1 + 4 + map.len));
    hp_buf_putc(out, 1);                      /* WIREFORMAT_INFO */
    hp_buf_put(out, "ActiveMQ", 8);
    hp_buf_put_u32be(out, 12);                         /* OpenWire version of 5.15 */
    hp_buf_putc(out, 1);                      /* marshalledProperties present */
    hp_buf_put_u32be(out, (uint32_t)map.len);
    hp_buf_put(out, map.data, map.len);
    hp_buf_free(&map);
    return true;
}

bool hp_trap_banner_build(enum hp_trap_banner_kind kind, struct hp_buf *out)
{
    switch (kind) {
    case HP_TRAP_BANNER_ACTIVEMQ:
        return activemq(out);
    case HP_TRAP_BANNER_NONE:
    default:
        return false;
    }
}
