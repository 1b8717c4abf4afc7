/*
 * test_persona.c - unit tests for the personalities (src/shell/persona.c).
 *
 * Covers: both personalities exist and unknown names do not; stability
 * (the same identity gives the same facts after a reset, also at another
 * time) and variety (other host names give other facts); facts drawn from
 * the real tables (Debian kernel builds, x86_64 on Debian, ARM or MIPS on
 * busybox with a banner and ELF machine that agree with uname -m); no
 * Cowrie tells; memory consistent within a call and moving over time; load;
 * uptime growing with the clock; processes sorted by pid and starting after
 * boot; mounts; the busybox applet list sorted, with Mirai's essentials;
 * generated texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "identity.h"
#include "shell/persona.h"

#define T0 1750000000

/* Load an identity with this host name from a temporary directory. */
static void set_identity(const char *host)
{
    char dir[] = "/tmp/hp-persona-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/identity", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "hostname=%s\n", host);
    fclose(f);
    assert_int_equal(hp_identity_load(dir, err, sizeof(err)), 0);
    unlink(path);
    rmdir(dir);
    hp_persona_reset();
}

struct facts {
    char hostname[64], release[64], version[128], cpu[96], machine[16], banner[96], ifname[16];
    uint64_t mem, seed;
    int64_t boot;
    unsigned cores;
    uint8_t mac[6];
};

static void get_facts(const char *name, struct facts *f)
{
    memset(f, 0, sizeof(*f));
    const struct hp_persona *p = hp_persona_get(name);
    assert_non_null(p);
    snprintf(f->hostname, sizeof(f->hostname), "%s", p->hostname);
    snprintf(f->release, sizeof(f->release), "%s", p->kernel_release);
    snprintf(f->version, sizeof(f->version), "%s", p->kernel_version);
    snprintf(f->cpu, sizeof(f->cpu), "%s", p->cpu_model);
    snprintf(f->machine, sizeof(f->machine), "%s", p->machine);
    snprintf(f->banner, sizeof(f->banner), "%s", p->busybox_banner);
    snprintf(f->ifname, sizeof(f->ifname), "%s", p->ifname);
    f->mem = p->mem_kb;
    f->seed = p->seed;
    f->boot = p->boot_time;
    f->cores = p->cpu_cores;
    memcpy(f->mac, p->mac, 6);
}

static void test_names(void **state)
{
    (void)state;
    assert_non_null(hp_persona_get("debian"));
    assert_non_null(hp_persona_get("busybox"));
    assert_null(hp_persona_get("windows"));
    assert_null(hp_persona_get(NULL));
    assert_string_equal(hp_persona_names(), "debian, busybox");
    assert_ptr_equal(hp_persona_get("debian"), hp_persona_get("debian"));
}

static void test_stability(void **state)
{
    (void)state;
    const char *names[] = { "debian", "busybox" };
    for (size_t i = 0; i < 2; i++) {
        struct facts a, b;
        set_identity("web-07");
        get_facts(names[i], &a);
        set_identity("web-07");
        get_facts(names[i], &b);
        assert_memory_equal(&a, &b, sizeof(a));
        if (i == 0)
            assert_string_equal(a.hostname, "web-07");
    }
}

static void test_variety(void **state)
{
    (void)state;
    /* Over many host names, every fact takes several values. */
    char seen_rel[16][64] = { { 0 } }, seen_cpu[16][96] = { { 0 } }, seen_board[16][256] = { { 0 } };
    size_t nrel = 0, ncpu = 0, nboard = 0;
    uint64_t seed0 = 0;
    for (int i = 0; i < 60; i++) {
        char host[32];
        snprintf(host, sizeof(host), "vps%d", 10000 + i * 7919);
        set_identity(host);
        struct facts d, b;
        get_facts("debian", &d);
        get_facts("busybox", &b);
        if (i == 0)
            seed0 = d.seed;
        else
            assert_true(d.seed != seed0);
        assert_true(d.seed != b.seed);
        bool f = false;
        for (size_t k = 0; k < nrel; k++)
            f |= !strcmp(seen_rel[k], d.release);
        if (!f && nrel < 16)
            snprintf(seen_rel[nrel++], 64, "%s", d.release);
        f = false;
        for (size_t k = 0; k < ncpu; k++)
            f |= !strcmp(seen_cpu[k], d.cpu);
        if (!f && ncpu < 16)
            snprintf(seen_cpu[ncpu++], 96, "%s", d.cpu);
        char board[256];
        snprintf(board, sizeof(board), "%s %s", b.cpu, b.release);
        f = false;
        for (size_t k = 0; k < nboard; k++)
            f |= !strcmp(seen_board[k], board);
        if (!f && nboard < 16)
            snprintf(seen_board[nboard++], 256, "%s", board);
    }
    assert_true(nrel >= 5);
    assert_true(ncpu >= 4);
    assert_true(nboard >= 3);
}

static void test_debian_facts(void **state)
{
    (void)state;
    set_identity("db02");
    const struct hp_persona *p = hp_persona_get("debian");
    assert_string_equal(p->machine, "x86_64");
    assert_int_equal(p->shell, HP_SH_BASH);
    assert_false(p->busybox);
    assert_int_equal(p->elf_machine, 62);
    assert_true(p->elf_64);
    assert_int_equal(strncmp(p->kernel_release, "6.1.0-", 6), 0);
    assert_non_null(strstr(p->kernel_version, "SMP PREEMPT_DYNAMIC Debian 6.1."));
    assert_true(p->cpu_cores >= 1 && p->cpu_cores <= 4);
    assert_true(p->mem_kb > 900000 && p->mem_kb < 8u * 1048576);
    assert_true(p->disk_kb > 20000000 && p->disk_kb < 170000000);
    int64_t up = (int64_t)hp_persona_uptime(p, (int64_t)time(NULL));
    assert_true(up >= 3 * 86400 && up < 100 * 86400);
    const char *const tells[] = { "svr04", "phil", "richard", "nas3" };
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    const char *gens[] = { "cpuinfo", "meminfo", "version", "mounts", "var:admin", "var:hostname", "os_release" };
    for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
        assert_true(hp_persona_gen(p, gens[i], T0, &b));
    assert_false(hp_persona_gen(p, "nonexistent", T0, &b));
    const char *all = hp_buf_cstr(&b);
    for (size_t i = 0; i < 4; i++)
        assert_null(strstr(all, tells[i]));
    hp_buf_free(&b);
    assert_string_equal(hp_persona_applets(p)[0] ? "x" : "", "");
}

static void test_busybox_facts(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++) {
        char host[32];
        snprintf(host, sizeof(host), "node%d", i);
        set_identity(host);
        const struct hp_persona *p = hp_persona_get("busybox");
        assert_true(p->busybox);
        assert_int_equal(p->shell, HP_SH_ASH);
        assert_false(p->elf_64);
        if (!strncmp(p->machine, "arm", 3))
            assert_int_equal(p->elf_machine, 40);
        else if (!strcmp(p->machine, "mips"))
            assert_int_equal(p->elf_machine, 8);
        else
            fail_msg("machine %s", p->machine);
        assert_int_equal(strncmp(p->busybox_banner, "BusyBox v1.", 11), 0);
        assert_non_null(strstr(p->busybox_banner, "multi-call binary."));
        assert_true(p->cpu_cores >= 1 && p->cpu_cores <= 2);
        assert_true(p->mem_kb >= 16 * 1024 && p->mem_kb <= 256 * 1024);
        assert_true(p->kernel_release[0] == '2' || p->kernel_release[0] == '3' || p->kernel_release[0] == '4');
        const char *const *a = hp_persona_applets(p);
        size_t n = 0;
        bool sh = false, busybox_cat = false, tftp = false;
        for (; a[n]; n++) {
            if (n)
                assert_true(strcmp(a[n - 1], a[n]) < 0);
            sh |= !strcmp(a[n], "sh");
            busybox_cat |= !strcmp(a[n], "cat");
            tftp |= !strcmp(a[n], "tftp");
        }
        assert_true(n >= 100 && n <= 300);
        assert_true(sh && busybox_cat && tftp);
        struct hp_buf b;
        hp_buf_init(&b, 1 << 20);
        assert_true(hp_persona_gen(p, "cpuinfo", T0, &b));
        const char *s = hp_buf_cstr(&b);
        assert_non_null(strstr(s, p->cpu_model));
        hp_buf_free(&b);
    }
}

static void test_memory(void **state)
{
    (void)state;
    set_identity("mem-test");
    const char *names[] = { "debian", "busybox" };
    for (size_t k = 0; k < 2; k++) {
        const struct hp_persona *p = hp_persona_get(names[k]);
        struct hp_meminfo m, prev = { 0 };
        unsigned changes = 0;
        for (int i = 0; i < 200; i++) {
            hp_persona_mem(p, T0 + i * 97, &m);
            assert_int_equal(m.total, p->mem_kb);
            assert_true(m.free + m.buffers + m.cached <= m.total);
            assert_true(m.available >= m.free && m.available <= m.total);
            assert_true(m.swap_free <= m.swap_total);
            if (i && m.free != prev.free)
                changes++;
            /* small steps: a live system, not a random one */
            if (i) {
                int64_t d = (int64_t)m.free - (int64_t)prev.free;
                assert_true(d < (int64_t)m.total / 20 && -d < (int64_t)m.total / 20);
            }
            prev = m;
        }
        assert_true(changes > 100);
        struct hp_meminfo a, b;
        hp_persona_mem(p, T0, &a);
        hp_persona_mem(p, T0, &b);
        assert_memory_equal(&a, &b, sizeof(a));
        unsigned l[3];
        hp_persona_load(p, T0, l);
        assert_true(l[0] < 200 && l[1] < 200 && l[2] < 200);
        int64_t now = (int64_t)time(NULL);
        assert_int_equal(hp_persona_uptime(p, now + 60), hp_persona_uptime(p, now) + 60);
    }
}

static void test_procs_mounts(void **state)
{
    (void)state;
    set_identity("proc-test");
    const char *names[] = { "debian", "busybox" };
    for (size_t k = 0; k < 2; k++) {
        const struct hp_persona *p = hp_persona_get(names[k]);
        const struct hp_proc *ps;
        size_t n = hp_persona_procs(p, &ps);
        assert_true(n >= 8);
        assert_int_equal(ps[0].pid, 1);
        bool remote = false;
        for (size_t i = 0; i < n; i++) {
            if (i)
                assert_true(ps[i - 1].pid < ps[i].pid);
            assert_non_null(ps[i].cmd);
            assert_non_null(ps[i].comm);
            assert_non_null(ps[i].user);
            assert_non_null(ps[i].tty);
            remote |= !strcmp(ps[i].comm, "sshd") || !strcmp(ps[i].comm, "telnetd") ||
                      !strcmp(ps[i].comm, "dropbear");
        }
        assert_true(remote);
        const struct hp_mount *ms;
        size_t nm = hp_persona_mounts(p, &ms);
        bool root = false, proc = false;
        for (size_t i = 0; i < nm; i++) {
            root |= !strcmp(ms[i].mountpoint, "/") && strcmp(ms[i].type, "rootfs");
            proc |= !strcmp(ms[i].type, "proc") && !strcmp(ms[i].mountpoint, "/proc");
            assert_true(ms[i].used_kb <= ms[i].size_kb || ms[i].size_kb == 0);
        }
        assert_true(root && proc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stability),
        cmocka_unit_test(test_variety),
        cmocka_unit_test(test_debian_facts),
        cmocka_unit_test(test_busybox_facts),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_procs_mounts),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    hp_persona_reset();
    return r;
}
