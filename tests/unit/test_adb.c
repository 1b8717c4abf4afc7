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
 * Module (adb.c driven through its hp_proto over a socketpair): one-byte
 * WRTEs behind a large pending stream input, and OKAYs for 256-byte
 * payloads of a megabyte of output, cost what their bytes cost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "proto.h"
#include "reader.h"
#include "sensor.h"
#include "proto/adb.h"
#include "cpu_time.h"
#include "mod_fixture.h"

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

/* ---- the module over a socketpair (mod_fixture.h) ---- */

/* Feed client bytes, all of which the module takes; returns what it answered
 * (at most cap bytes kept in ans). */
static size_t adb_feed(struct mod *m, const void *p, size_t n, uint8_t *ans, size_t cap)
{
    mod_feed(m, p, n);
    assert_int_equal(m->in.len, 0);
    return mod_recv(m, ans, cap);
}

static size_t put_msg(uint8_t *out, uint32_t cmd, uint32_t a0, uint32_t a1, const void *data, size_t len)
{
    struct hp_buf b;
    hp_buf_init(&b, HP_ADB_HDR_LEN + len + 16);
    hp_adb_msg_build(&b, cmd, a0, a1, data, len, true);   /* the checksum: fine either way */
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    hp_buf_free(&b);
    return n;
}

/*
 * A sync stream that failed (FAIL sent, never acknowledged, so it stays open
 * until the client's OKAY) keeps what the client goes on writing.  Every WRTE
 * copied all of it into a new buffer: 1.2 MiB per 25-byte message, 45 us
 * each, minutes of CPU for a connection's max_input.  Now a WRTE costs its
 * own bytes.
 */
static void test_module_trickle(void **state)
{
    (void)state;
    struct mod m;
    mod_open(&m, "adb", "protocol = adb\ndevice = rk3318_box\n");
    static uint8_t wire[1 << 20], ans[4096];
    size_t n = put_msg(wire, HP_ADB_CNXN, HP_ADB_VERSION_SKIP, 256 * 1024, "host::", 7);
    assert_true(adb_feed(&m, wire, n, ans, sizeof(ans)) > HP_ADB_HDR_LEN);
    n = put_msg(wire, HP_ADB_OPEN, 7, 0, "sync:", 6);
    assert_int_equal(adb_feed(&m, wire, n, ans, sizeof(ans)), HP_ADB_HDR_LEN);
    struct hp_rd r;
    struct hp_adb_msg am;
    hp_rd_init(&r, ans, HP_ADB_HDR_LEN);
    assert_int_equal(hp_adb_msg_parse(&r, 4096, false, &am, NULL), HP_ADB_OK);
    assert_int_equal(am.cmd, HP_ADB_OKAY);
    uint32_t local = am.arg0;
    /* DATA outside a SEND: FAIL, and the stream closes once that is acknowledged */
    n = put_msg(wire, HP_ADB_WRTE, 7, local, "DATA\0\0\0\0", 8);
    assert_true(adb_feed(&m, wire, n, ans, sizeof(ans)) > 2 * HP_ADB_HDR_LEN);
    static uint8_t big[65536];
    memset(big, 'B', sizeof(big));
    for (int i = 0; i < 19; i++) {
        n = put_msg(wire, HP_ADB_WRTE, 7, local, big, sizeof(big));
        assert_int_equal(adb_feed(&m, wire, n, NULL, SIZE_MAX), HP_ADB_HDR_LEN);   /* OKAY */
    }
    size_t one = put_msg(wire, HP_ADB_WRTE, 7, local, "A", 1);
    for (size_t i = 1; i < 256; i++)
        memcpy(wire + i * one, wire, one);
    double a = test_cpu_s();
    for (int i = 0; i < 160; i++)                  /* 40,960 one-byte WRTEs */
        assert_int_equal(adb_feed(&m, wire, 256 * one, NULL, SIZE_MAX), 256 * HP_ADB_HDR_LEN);
    double cpu = test_cpu_s() - a;
    assert_true(cpu < 1.0);                        /* 2+ s before; tens of ms now */
    /* the stream is intact: the client's OKAY lets it close */
    n = put_msg(wire, HP_ADB_OKAY, 7, local, NULL, 0);
    assert_int_equal(adb_feed(&m, wire, n, ans, sizeof(ans)), HP_ADB_HDR_LEN);
    hp_rd_init(&r, ans, HP_ADB_HDR_LEN);
    assert_int_equal(hp_adb_msg_parse(&r, 4096, false, &am, NULL), HP_ADB_OK);
    assert_int_equal(am.cmd, HP_ADB_CLSE);
    mod_close(&m);
}

/*
 * Output goes out one WRTE of max_payload bytes per OKAY; a client may ask
 * for 256-byte payloads.  Each OKAY moved the stream's whole pending output
 * (up to 1 MiB) to the buffer's front: 4,096 OKAYs of 24 bytes cost 2 GiB
 * of copying per megabyte of output.
 */
static void test_module_small_payload(void **state)
{
    (void)state;
    struct mod m;
    mod_open(&m, "adb", "protocol = adb\ndevice = rk3318_box\n");
    static uint8_t wire[1 << 20], ans[1 << 16];
    size_t n = put_msg(wire, HP_ADB_CNXN, HP_ADB_VERSION_SKIP, 256, "host::", 7);
    assert_true(adb_feed(&m, wire, n, ans, sizeof(ans)) > HP_ADB_HDR_LEN);
    double cpu = 0;
    for (int rep = 0; rep < 2; rep++) {
        uint32_t local[8];
        for (uint32_t i = 0; i < 8; i++) {        /* 8 streams, 1 MiB of output each */
            const char *cmd = "shell:seq 1 300000;seq 1 300000";
            n = put_msg(wire, HP_ADB_OPEN, 100 + i, 0, cmd, strlen(cmd) + 1);
            assert_true(adb_feed(&m, wire, n, ans, sizeof(ans)) >= HP_ADB_HDR_LEN + 24 + 256);
            struct hp_rd r;
            struct hp_adb_msg am;
            hp_rd_init(&r, ans, HP_ADB_HDR_LEN);
            assert_int_equal(hp_adb_msg_parse(&r, 4096, false, &am, NULL), HP_ADB_OK);
            assert_int_equal(am.cmd, HP_ADB_OKAY);
            local[i] = am.arg0;
        }
        double a = test_cpu_s();
        size_t got = 0;
        for (int round = 0; round < 4096; round++) {
            size_t k = 0;
            for (uint32_t i = 0; i < 8; i++)
                k += put_msg(wire + k, HP_ADB_OKAY, 100 + i, local[i], NULL, 0);
            got += adb_feed(&m, wire, k, NULL, SIZE_MAX);
        }
        cpu += test_cpu_s() - a;
        /* all of it (the first WRTE came with the OKAY of the OPEN), then the CLSE */
        assert_int_equal(got, 8 * (4095 * (HP_ADB_HDR_LEN + 256) + HP_ADB_HDR_LEN));
    }
    assert_true(cpu < 0.8);                        /* 1.2 s before; some 50 ms now (0.16 s sanitized) */
    mod_close(&m);
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
        cmocka_unit_test(test_module_trickle),
        cmocka_unit_test(test_module_small_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
