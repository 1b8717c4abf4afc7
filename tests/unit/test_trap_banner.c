/*
 * test_trap_banner.c - unit tests for the banners the trap builds
 * (src/proto/trap_banner.c).
 *
 * Covers: the kind names; ActiveMQ's WireFormatInfo read back field by
 * field as OpenWire's loose unmarshalling reads it (the frame size, type,
 * magic, version, the properties' present flag and length, the primitive
 * map's count, names, type bytes and values, nothing left over), the
 * entries in the broker's HashMap order, and PlatformDetails naming the
 * Debian personality's kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "proto/trap_banner.h"
#include "reader.h"
#include "shell/persona.h"

static void test_kinds(void **state)
{
    (void)state;
    assert_int_equal(hp_trap_banner_kind("activemq"), HP_TRAP_BANNER_ACTIVEMQ);
    assert_int_equal(hp_trap_banner_kind("none"), HP_TRAP_BANNER_NONE);
    assert_int_equal(hp_trap_banner_kind("ActiveMQ"), -1);
    assert_int_equal(hp_trap_banner_kind(""), -1);
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    assert_false(hp_trap_banner_build(HP_TRAP_BANNER_NONE, &b));
    assert_int_equal(b.len, 0);
    hp_buf_free(&b);
}

/* A writeUTF string into out (NUL-terminated); false when it does not fit. */
static bool rd_utf(struct hp_rd *r, char *out, size_t outlen)
{
    uint16_t n = hp_rd_u16be(r);
    if (!hp_rd_ok(r) || n >= outlen || hp_rd_left(r) < n)
        return false;
    memcpy(out, hp_rd_ptr(r), n);
    out[n] = '\0';
    hp_rd_skip(r, n);
    return true;
}

static void test_activemq_wireformatinfo(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 64 * 1024);
    assert_true(hp_trap_banner_build(HP_TRAP_BANNER_ACTIVEMQ, &b));
    struct hp_rd r;
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_rd_u32be(&r), b.len - 4);
    assert_int_equal(hp_rd_u8(&r), 1);
    assert_memory_equal(hp_rd_ptr(&r), "ActiveMQ", 8);
    hp_rd_skip(&r, 8);
    assert_int_equal(hp_rd_u32be(&r), 12);
    assert_int_equal(hp_rd_u8(&r), 1);
    uint32_t plen = hp_rd_u32be(&r);
    assert_int_equal(plen, hp_rd_left(&r));
    assert_int_equal(hp_rd_u32be(&r), 12);
    static const struct { const char *name; int type; } want[] = {
        { "TcpNoDelayEnabled", 1 }, { "CacheSize", 5 }, { "SizePrefixDisabled", 1 }, { "ProviderName", 9 },
        { "StackTraceEnabled", 1 }, { "PlatformDetails", 9 }, { "CacheEnabled", 1 },
        { "TightEncodingEnabled", 1 }, { "MaxFrameSize", 6 }, { "MaxInactivityDuration", 6 },
        { "MaxInactivityDurationInitalDelay", 6 }, { "ProviderVersion", 9 },
    };
    char name[64], text[256], platform[256] = "", version[256] = "";
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_true(rd_utf(&r, name, sizeof(name)));
        assert_string_equal(name, want[i].name);
        int t = hp_rd_u8(&r);
        assert_int_equal(t, want[i].type);
        if (t == 1)
            assert_int_equal(hp_rd_u8(&r), strcmp(name, "SizePrefixDisabled") == 0 ? 0 : 1);
        else if (t == 5)
            assert_int_equal(hp_rd_u32be(&r), 1024);
        else if (t == 6) {
            uint64_t v = (uint64_t)hp_rd_u32be(&r) << 32;
            v |= hp_rd_u32be(&r);
            if (strcmp(name, "MaxFrameSize") == 0)
                assert_true(v == (uint64_t)INT64_MAX);
            else
                assert_int_equal(v, strcmp(name, "MaxInactivityDuration") == 0 ? 30000 : 10000);
        } else {
            assert_true(rd_utf(&r, text, sizeof(text)));
            if (strcmp(name, "PlatformDetails") == 0)
                memcpy(platform, text, sizeof(platform));
            else if (strcmp(name, "ProviderVersion") == 0)
                snprintf(version, sizeof(version), "%s", text);
            else
                assert_string_equal(text, "ActiveMQ");
        }
    }
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 0);
    assert_string_equal(version, "5.15.15");
    const struct hp_persona *p = hp_persona_get("debian");
    assert_non_null(p);
    char expect[256];
    snprintf(expect, sizeof(expect), "JVM: 1.8.0_371, 25.371-b11, Oracle Corporation, OS: Linux, %s, amd64",
             p->kernel_release);
    assert_string_equal(platform, expect);
    hp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_activemq_wireformatinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
