/*
 * test_adb.c - unit tests for the ADB wire format (src/proto/adb_msg.c).
 *
 * Messages: nmap's CNXN probe parsed field by field, partial input left
 * unconsumed at every cut, the magic, the length bound checked on the header
 * alone, the byte-sum checksum on and off, build/parse round trip.
 * Services: shell:, shell:CMD, shell,v2,TERM=..,raw:CMD, pty, exec:, sync:,
 * reboot, forwarding, "shellfoo" as no service.  Sync: each request with
 * its path, DATA bounded at 64 KiB, DONE/QUIT, unknown ids refused, partial
 * units.  Shell v2 packets: round trip and the size bound.  Devices: the
 * banner with and without features (as nmap's match lines expect), getprop.
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
#include "reader.h"
#include "proto/adb.h"

static const uint8_t nmap_probe[] =
    "CNXN\0\0\0\x01\0\x10\0\0\x07\0\0\0\x32\x02\0\0\xbc\xb1\xa7\xb1host::";   /* + its NUL */

static void test_msg_parse(void **state)
{
    (void)state;
    size_t n = sizeof(nmap_probe);        /* includes the final NUL: 24 + 7 */
    assert_int_equal(n, 31);
    struct hp_adb_msg m;
    enum hp_adb_msg_err e;
    for (size_t cut = 0; cut < n; cut++) {
        struct hp_rd r;
        hp_rd_init(&r, nmap_probe, cut);
        assert_int_equal(hp_adb_msg_parse(&r, 4096, true, &m, &e), HP_ADB_PARTIAL);
        assert_int_equal(hp_rd_pos(&r), 0);
    }
    struct hp_rd r;
    hp_rd_init(&r, nmap_probe, n);
    assert_int_equal(hp_adb_msg_parse(&r, 4096, true, &m, &e), HP_ADB_OK);
    assert_int_equal(m.cmd, HP_ADB_CNXN);
    assert_int_equal(m.arg0, HP_ADB_VERSION_MIN);
    assert_int_equal(m.arg1, 4096);
    assert_int_equal(m.len, 7);
    assert_memory_equal(m.data, "host::", 7);
    assert_int_equal(hp_rd_left(&r), 0);
    char name[12];
    hp_adb_cmd_name(m.cmd, name);
    assert_string_equal(name, "CNXN");
    hp_adb_cmd_name(0x01020304, name);
    assert_string_equal(name, "0x01020304");
}

static void test_msg_errors(void **state)
{
    (void)state;
    uint8_t b[sizeof(nmap_probe)];
    memcpy(b, nmap_probe, sizeof(b));
    struct hp_adb_msg m;
    enum hp_adb_msg_err e;
    struct hp_rd r;
    /* bad checksum, refused only when checked */
    b[16] ^= 1;
    hp_rd_init(&r, b, sizeof(b));
    assert_int_equal(hp_adb_msg_parse(&r, 4096, true, &m, &e), HP_ADB_BAD);
    assert_int_equal(e, HP_ADB_E_CHECK);
    hp_rd_init(&r, b, sizeof(b));
    assert_int_equal(hp_adb_msg_parse(&r, 4096, false, &m, &e), HP_ADB_OK);
    /* bad magic */
    memcpy(b, nmap_probe, sizeof(b));
    b[20] ^= 1;
    hp_rd_init(&r, b, 24);
    assert_int_equal(hp_adb_msg_parse(&r, 4096, true, &m, &e), HP_ADB_BAD);
    assert_int_equal(e, HP_ADB_E_MAGIC);
    /* a length over the bound is refused on the header alone */
    memcpy(b, nmap_probe, sizeof(b));
    b[12] = 0xff;
    b[13] = 0xff;
    b[14] = 0xff;
    hp_rd_init(&r, b, 24);
    assert_int_equal(hp_adb_msg_parse(&r, HP_ADB_PAYLOAD_MAX, false, &m, &e), HP_ADB_BAD);
    assert_int_equal(e, HP_ADB_E_LENGTH);
    hp_rd_init(&r, nmap_probe, sizeof(nmap_probe));
    assert_int_equal(hp_adb_msg_parse(&r, 6, false, &m, &e), HP_ADB_BAD);
    assert_int_equal(e, HP_ADB_E_LENGTH);
}

static void test_msg_build(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    hp_adb_msg_build(&b, HP_ADB_CNXN, HP_ADB_VERSION_MIN, 4096, "host::", 7, true);
    assert_int_equal(b.len, sizeof(nmap_probe));
    assert_memory_equal(b.data, nmap_probe, b.len);
    hp_buf_reset(&b);
    hp_adb_msg_build(&b, HP_ADB_WRTE, 5, 9, "abc", 3, false);
    hp_adb_msg_build(&b, HP_ADB_OKAY, 9, 5, NULL, 0, false);
    struct hp_rd r;
    struct hp_adb_msg m;
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_msg_parse(&r, 4096, false, &m, NULL), HP_ADB_OK);
    assert_int_equal(m.cmd, HP_ADB_WRTE);
    assert_int_equal(m.check, 0);
    assert_memory_equal(m.data, "abc", 3);
    assert_int_equal(hp_adb_msg_parse(&r, 4096, true, &m, NULL), HP_ADB_OK);   /* empty: sum 0 */
    assert_int_equal(m.cmd, HP_ADB_OKAY);
    assert_int_equal(m.arg0, 9);
    assert_int_equal(hp_rd_left(&r), 0);
    assert_int_equal(hp_adb_checksum("\xff\xff", 2), 510);
    hp_buf_free(&b);
}

static void svc(const char *name, struct hp_adb_service *s)
{
    hp_adb_service_parse((const uint8_t *)name, strlen(name) + 1, s);   /* with the NUL */
}

static void assert_arg(const struct hp_adb_service *s, const char *want)
{
    assert_int_equal(s->arg_len, strlen(want));
    assert_memory_equal(s->arg, want, s->arg_len);
}

static void test_services(void **state)
{
    (void)state;
    struct hp_adb_service s;
    svc("shell:", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_SHELL);
    assert_false(s.v2);
    assert_int_equal(s.pty, HP_ADB_PTY_AUTO);
    assert_int_equal(s.arg_len, 0);
    svc("shell:cd /data/local/tmp; ./x", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_SHELL);
    assert_arg(&s, "cd /data/local/tmp; ./x");
    svc("shell,v2,TERM=xterm-256color,raw:uname -a", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_SHELL);
    assert_true(s.v2);
    assert_int_equal(s.pty, HP_ADB_PTY_RAW);
    assert_int_equal(s.term_len, 14);
    assert_memory_equal(s.term, "xterm-256color", 14);
    assert_arg(&s, "uname -a");
    svc("shell,v2,pty:", &s);
    assert_true(s.v2);
    assert_int_equal(s.pty, HP_ADB_PTY_PTY);
    svc("shell", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_SHELL);
    svc("shellfoo:x", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_OTHER);
    svc("shell,v2", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_OTHER);
    svc("exec:cat /proc/cpuinfo", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_EXEC);
    assert_arg(&s, "cat /proc/cpuinfo");
    svc("sync:", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_SYNC);
    svc("reboot:bootloader", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_REBOOT);
    assert_arg(&s, "bootloader");
    svc("tcp:8080", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_FORWARD);
    svc("localabstract:chrome_devtools_remote", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_FORWARD);
    svc("tcpip:5555", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_TCPIP);
    svc("root:", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_ROOT);
    svc("", &s);
    assert_int_equal(s.kind, HP_ADB_SVC_OTHER);
    assert_string_equal(hp_adb_service_kind_name(HP_ADB_SVC_SYNC), "sync");
}

static void put_unit(struct hp_buf *b, const char *id, uint32_t arg, const void *data, size_t n)
{
    uint8_t h[8] = { (uint8_t)id[0], (uint8_t)id[1], (uint8_t)id[2], (uint8_t)id[3],
                     (uint8_t)arg, (uint8_t)(arg >> 8), (uint8_t)(arg >> 16), (uint8_t)(arg >> 24) };
    hp_buf_put(b, h, 8);
    if (n)
        hp_buf_put(b, data, n);
}

static void test_sync(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    const char *p = "/data/local/tmp/x,33261";
    put_unit(&b, "STA2", 15, "/data/local/tmp", 15);
    put_unit(&b, "SEND", (uint32_t)strlen(p), p, strlen(p));
    put_unit(&b, "DATA", 4, "\x7f" "ELF", 4);
    put_unit(&b, "DONE", 1700000000, NULL, 0);
    put_unit(&b, "QUIT", 0, NULL, 0);
    struct hp_adb_sync_unit u;
    for (size_t cut = 0; cut < 8 + 15; cut++) {
        struct hp_rd r;
        hp_rd_init(&r, b.data, cut);
        assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_PARTIAL);
        assert_int_equal(hp_rd_pos(&r), 0);
    }
    struct hp_rd r;
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_OK);
    assert_int_equal(u.id, HP_ADB_ID('S', 'T', 'A', '2'));
    assert_memory_equal(u.data, "/data/local/tmp", 15);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_OK);
    assert_int_equal(u.id, HP_ADB_ID('S', 'E', 'N', 'D'));
    assert_int_equal(u.arg, strlen(p));
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_OK);
    assert_int_equal(u.id, HP_ADB_ID('D', 'A', 'T', 'A'));
    assert_memory_equal(u.data, "\x7f" "ELF", 4);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_OK);
    assert_int_equal(u.id, HP_ADB_ID('D', 'O', 'N', 'E'));
    assert_int_equal(u.arg, 1700000000);
    assert_null(u.data);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_OK);
    assert_int_equal(u.id, HP_ADB_ID('Q', 'U', 'I', 'T'));
    assert_int_equal(hp_rd_left(&r), 0);
    /* bounds: a path over 1024, DATA over 64 KiB, unknown ids */
    hp_buf_reset(&b);
    put_unit(&b, "RECV", 1025, NULL, 0);
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_BAD);
    hp_buf_reset(&b);
    put_unit(&b, "DATA", 65537, NULL, 0);
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_BAD);
    hp_buf_reset(&b);
    put_unit(&b, "DATA", 65536, NULL, 0);
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_PARTIAL);
    hp_buf_reset(&b);
    put_unit(&b, "SND2", 4, "/x,1", 4);
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_sync_parse(&r, &u), HP_ADB_BAD);
    hp_buf_free(&b);
}

static void test_sh2(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    hp_adb_sh2_build(&b, HP_ADB_SH_STDIN, "id\n", 3);
    hp_adb_sh2_build(&b, HP_ADB_SH_CLOSE_STDIN, NULL, 0);
    assert_int_equal(b.len, 5 + 3 + 5);
    assert_memory_equal(b.data, "\0\3\0\0\0id\n\4\0\0\0\0", 13);
    struct hp_rd r;
    uint8_t id;
    const uint8_t *d;
    uint32_t n;
    hp_rd_init(&r, b.data, 7);
    assert_int_equal(hp_adb_sh2_parse(&r, &id, &d, &n), HP_ADB_PARTIAL);
    assert_int_equal(hp_rd_pos(&r), 0);
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal(hp_adb_sh2_parse(&r, &id, &d, &n), HP_ADB_OK);
    assert_int_equal(id, HP_ADB_SH_STDIN);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "id\n", 3);
    assert_int_equal(hp_adb_sh2_parse(&r, &id, &d, &n), HP_ADB_OK);
    assert_int_equal(id, HP_ADB_SH_CLOSE_STDIN);
    assert_int_equal(n, 0);
    hp_rd_init(&r, "\1\1\0\x10\0", 5);            /* 1 MiB + 1: over the bound */
    assert_int_equal(hp_adb_sh2_parse(&r, &id, &d, &n), HP_ADB_BAD);
    hp_buf_free(&b);
}

static void test_devices(void **state)
{
    (void)state;
    size_t n;
    const struct hp_adb_device *all = hp_adb_devices(&n);
    assert_true(n >= 5);
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(hp_adb_device_find(all[i].name), &all[i]);
        assert_true(all[i].max_payload >= HP_ADB_PAYLOAD_V1 && all[i].max_payload <= HP_ADB_PAYLOAD_MAX);
        hp_buf_reset(&b);
        hp_adb_banner(&all[i], &b);
        const char *s = (const char *)b.data;
        assert_true(b.len > 40 && strncmp(s, "device::ro.product.name=", 24) == 0);
        assert_true(!strstr(hp_buf_cstr(&b), "oneypot"));
        if (all[i].features)      /* nmap: features=([^\0]+)$ */
            assert_null(memchr(b.data, '\0', b.len));
        else                      /* nmap: ...;\0$ */
            assert_memory_equal(b.data + b.len - 2, ";\0", 2);
    }
    assert_null(hp_adb_device_find("nosuch"));
    assert_null(hp_adb_device_find(NULL));
    const struct hp_adb_device *d = hp_adb_device_find("p281");
    hp_buf_reset(&b);
    hp_adb_banner(d, &b);
    assert_string_equal(hp_buf_cstr(&b), "device::ro.product.name=p281;ro.product.model=MXQ Pro 4K;"
                                         "ro.product.device=p281;features=cmd,shell_v2");
    hp_buf_reset(&b);
    hp_adb_getprop(d, "ro.product.model", &b);
    assert_string_equal(hp_buf_cstr(&b), "MXQ Pro 4K");
    hp_buf_reset(&b);
    hp_adb_getprop(d, "ro.build.version.sdk", &b);
    assert_string_equal(hp_buf_cstr(&b), "25");
    hp_buf_reset(&b);
    hp_adb_getprop(d, "no.such", &b);
    assert_int_equal(b.len, 0);
    hp_buf_reset(&b);
    hp_adb_getprop(d, NULL, &b);
    assert_non_null(strstr(hp_buf_cstr(&b), "[ro.product.device]: [p281]\n"));
    hp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_parse),
        cmocka_unit_test(test_msg_errors),
        cmocka_unit_test(test_msg_build),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_sh2),
        cmocka_unit_test(test_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
