/*
 * cmd_hw.c - what the machine says about its hardware and kernel: free, df,
 * mount, nproc, lscpu, getconf, dmesg, lsmod, lspci.
 *
 * Coin miners size themselves with these (nproc, free -m, lscpu), so the
 * numbers come from the personality (persona.h) through the same functions
 * that generate /proc/meminfo and /proc/mounts, and lscpu reads
 * /proc/cpuinfo itself as the real one does: they cannot disagree.
 * Layouts: procps-ng 4.0.2, coreutils 9.1, util-linux 2.38 on Debian;
 * busybox applets on busybox personalities.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_sys.h"
#include "buf.h"

/* ==== memory and disks =========================================================== */

/* procps' scale_size: -b -k -m -g and -h. */
static void free_scale(char *out, size_t n, uint64_t kb, int unit, bool human)
{
    unsigned long long bytes = (unsigned long long)kb * 1024;
    if (human) {
        static const char up[] = "BKMGTP";
        if (bytes < 1024) {
            snprintf(out, n, "%lluB", bytes);
            return;
        }
        double v = (double)bytes;
        for (int i = 1; up[i]; i++) {
            v /= 1024.0;
            if (snprintf(out, n, "%.1f%ci", v, up[i]) <= 5)
                return;
            if (snprintf(out, n, "%ld%ci", (long)v, up[i]) <= 5)
                return;
        }
        return;
    }
    static const unsigned long long div[] = { 1024, 1, 1024, 1024 * 1024, 1024ull * 1024 * 1024 };
    snprintf(out, n, "%llu", bytes / div[unit]);
}

static int cmd_free(struct sh_cmd *c)
{
    bool bb = c->persona->busybox, human = false, wide = false, total = false;
    int unit = 0;                 /* 0 KiB default, 1 bytes, 2 KiB, 3 MiB, 4 GiB */
    struct sys_getopt g;
    static const struct sys_longopt longs[] = {
        { "bytes", 0, 'b' }, { "kibi", 0, 'k' }, { "mebi", 0, 'm' }, { "gibi", 0, 'g' },
        { "human", 0, 'h' }, { "wide", 0, 'w' }, { "total", 0, 't' }, { "help", 0, 'H' },
        { "version", 0, 'V' }, { "si", 0, 'S' }, { "lohi", 0, 'l' }, { "seconds", 1, 's' },
        { "count", 1, 'c' }, { NULL, 0, 0 },
    };
    int o;
    sys_getopt_init(&g, c->argc, c->argv, bb);
    while ((o = sys_getopt(&g, bb ? "bkmgh" : "bkmghwtlvVs:c:", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'b': unit = 1; break;
        case 'k': unit = 2; break;
        case 'm': unit = 3; break;
        case 'g': unit = 4; break;
        case 'h': human = true; break;
        case 'w': wide = true; break;
        case 't': total = true; break;
        case 'l': case 'S': case 's': case 'c': break;
        case 'V': case 'v':
            sh_outs(c, "free from procps-ng 4.0.2\n");
            return 0;
        case 'H':
            sh_outs(c, "\nUsage:\n free [options]\n\nOptions:\n"
                       " -b, --bytes         show output in bytes\n"
                       " -k, --kibi          show output in kibibytes\n"
                       " -m, --mebi          show output in mebibytes\n"
                       " -g, --gibi          show output in gibibytes\n"
                       " -h, --human         show human-readable output\n"
                       " -w, --wide          wide output\n"
                       " -t, --total         show total for RAM + swap\n"
                       "     --help     display this help and exit\n"
                       " -V, --version  output version information and exit\n\n"
                       "For more details see free(1).\n");
            return 0;
        default:
            if (bb)
                return sys_usage_bb(c, "free", &g, "[-bkmgh]\n\nDisplay free and used memory");
            sys_getopt_msg(c, "free", &g);
            sh_errs(c, "\nUsage:\n free [options]\n\nFor more details see free(1).\n");
            return 1;
        }
    }
    if (g.noperands > 0 && !bb) {
        sh_errf(c, "free: extra operand '%s'\n\nUsage:\n free [options]\n\nFor more details see free(1).\n",
                g.operands[0]);
        return 1;
    }
    struct hp_meminfo m;
    hp_persona_mem(c->persona, c->now_s, &m);
    uint64_t bc = m.buffers + m.cached + m.sreclaimable;
    uint64_t used = m.total > m.available ? m.total - m.available : 0;
    uint64_t sused = m.swap_total - m.swap_free;
    char v[8][32];
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    if (bb) {
        uint64_t bused = m.total - m.free - m.buffers - m.cached;
        uint64_t vals[6] = { m.total, bused, m.free, m.shared, m.buffers + m.cached, m.available };
        hp_buf_puts(&b, "              total        used        free      shared  buff/cache   available\nMem:   ");
        for (int i = 0; i < 6; i++) {
            free_scale(v[i], sizeof(v[i]), vals[i], unit, human);
            hp_buf_printf(&b, "%12s", v[i]);
        }
        uint64_t sv[3] = { m.swap_total, sused, m.swap_free };
        hp_buf_puts(&b, "\nSwap:  ");
        for (int i = 0; i < 3; i++) {
            free_scale(v[i], sizeof(v[i]), sv[i], unit, human);
            hp_buf_printf(&b, "%12s", v[i]);
        }
        hp_buf_putc(&b, '\n');
    } else {
        hp_buf_puts(&b, wide ? "               total        used        free      shared     buffers       cache   available\n"
                             : "               total        used        free      shared  buff/cache   available\n");
        uint64_t mv[7] = { m.total, used, m.free, m.shared, m.buffers, m.cached + m.sreclaimable, m.available };
        uint64_t mn[6] = { m.total, used, m.free, m.shared, bc, m.available };
        hp_buf_printf(&b, "%-7s", "Mem:");
        for (int i = 0; i < (wide ? 7 : 6); i++) {
            free_scale(v[0], sizeof(v[0]), wide ? mv[i] : mn[i], unit, human);
            hp_buf_printf(&b, " %11s", v[0]);
        }
        uint64_t sv[3] = { m.swap_total, sused, m.swap_free };
        hp_buf_printf(&b, "\n%-7s", "Swap:");
        for (int i = 0; i < 3; i++) {
            free_scale(v[0], sizeof(v[0]), sv[i], unit, human);
            hp_buf_printf(&b, " %11s", v[0]);
        }
        hp_buf_putc(&b, '\n');
        if (total) {
            uint64_t tv[3] = { m.total + m.swap_total, used + sused, m.free + m.swap_free };
            hp_buf_printf(&b, "%-7s", "Total:");
            for (int i = 0; i < 3; i++) {
                free_scale(v[0], sizeof(v[0]), tv[i], unit, human);
                hp_buf_printf(&b, " %11s", v[0]);
            }
            hp_buf_putc(&b, '\n');
        }
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* coreutils human_readable with -h: ceiling, one decimal below 10. */
static void df_human(char *out, size_t n, uint64_t kb, bool bb)
{
    static const char suf[] = "KMGTPE";
    if (kb == 0) {
        snprintf(out, n, "0");
        return;
    }
    double v = (double)kb;
    int i = 0;
    while (v >= 1024.0 && suf[i + 1]) {
        v /= 1024.0;
        i++;
    }
    if (bb) {
        snprintf(out, n, "%.1f%c", v, suf[i]);
        return;
    }
    if (v < 10.0) {
        double r = (double)(long long)(v * 10.0);
        if (r < v * 10.0)
            r += 1.0;
        if (r >= 100.0 && suf[i + 1]) {
            snprintf(out, n, "%d%c", 10, suf[i]);
            return;
        }
        snprintf(out, n, "%.1f%c", r / 10.0, suf[i]);
    } else {
        long long r = (long long)v;
        if ((double)r < v)
            r++;
        if (r >= 1024 && suf[i + 1])
            snprintf(out, n, "1.0%c", suf[i + 1]);
        else
            snprintf(out, n, "%lld%c", r, suf[i]);
    }
}

#define DF_COLS 7
#define DF_ROWS 40

static uint64_t df_avail(const struct hp_mount *m)
{
    uint64_t reserved = strcmp(m->type, "ext4") == 0 ? m->size_kb / 20 : 0;
    return m->size_kb > m->used_kb + reserved ? m->size_kb - m->used_kb - reserved : 0;
}

/* GNU df: columns as wide as their widest cell, numbers right-aligned, the
 * last column unpadded. */
static int cmd_df(struct sh_cmd *c)
{
    bool bb = c->persona->busybox, human = false, type = false, inodes = false, all = false;
    int unit = 1;                 /* KiB per block: 1 or 1024 (-m) */
    struct sys_getopt g;
    static const struct sys_longopt longs[] = {
        { "human-readable", 0, 'h' }, { "print-type", 0, 'T' }, { "inodes", 0, 'i' }, { "all", 0, 'a' },
        { "local", 0, 'l' }, { "help", 0, 'H' }, { "version", 0, 'V' }, { "portability", 0, 'P' },
        { NULL, 0, 0 },
    };
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "hkmTialPH", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'h': human = true; break;
        case 'k': unit = 1; human = false; break;
        case 'm': unit = 1024; human = false; break;
        case 'T': type = !bb; break;
        case 'i': inodes = !bb; break;
        case 'a': all = true; break;
        case 'l': case 'P': break;
        case 'V': sys_gnu_version(c, "df", "Torbjorn Granlund, David MacKenzie, and Paul Eggert"); return 0;
        case 'H':
            if (!bb) {
                sh_outs(c, "Usage: df [OPTION]... [FILE]...\nShow information about the file system on which each FILE resides,\n"
                           "or all file systems by default.\n");
                sys_gnu_help_tail(c, "df");
                return 0;
            }
            /* fallthrough */
        default:
            return bb ? sys_usage_bb(c, "df", &g, "[-PkmhTai] [-B SIZE] [FILESYSTEM]...")
                      : sys_usage_gnu(c, "df", &g, 1);
        }
    }
    const struct hp_mount *mounts;
    size_t nm = hp_persona_mounts(c->persona, &mounts);
    if (bb) {
        struct hp_buf b;
        hp_buf_init(&b, 16384);
        hp_buf_printf(&b, "Filesystem           %s      Used Available Use%% Mounted on\n",
                      human ? "     Size" : unit == 1024 ? "1M-blocks" : "1K-blocks");
        for (size_t i = 0; i < nm; i++) {
            const struct hp_mount *m = &mounts[i];
            if (!m->size_kb && !all)
                continue;
            uint64_t av = df_avail(m);
            unsigned pct = m->used_kb + av ? (unsigned)((m->used_kb * 100 + m->used_kb + av - 1) / (m->used_kb + av)) : 0;
            if (strlen(m->device) > 20)
                hp_buf_printf(&b, "%s\n%-20s", m->device, "");
            else
                hp_buf_printf(&b, "%-20s", m->device);
            if (human) {
                char s1[16], s2[16], s3[16];
                df_human(s1, sizeof(s1), m->size_kb, true);
                df_human(s2, sizeof(s2), m->used_kb, true);
                df_human(s3, sizeof(s3), av, true);
                hp_buf_printf(&b, " %9s %9s %9s %3u%% %s\n", s1, s2, s3, pct, m->mountpoint);
            } else {
                hp_buf_printf(&b, " %9llu %9llu %9llu %3u%% %s\n", (unsigned long long)(m->size_kb / unit),
                              (unsigned long long)(m->used_kb / unit), (unsigned long long)(av / unit), pct,
                              m->mountpoint);
            }
        }
        sh_out(c, b.data, b.len);
        hp_buf_free(&b);
        return 0;
    }
    static char cell[DF_ROWS][DF_COLS][64];
    const char *hdr[DF_COLS];
    int nc = 0;
    hdr[nc++] = "Filesystem";
    if (type)
        hdr[nc++] = "Type";
    if (inodes) {
        hdr[nc++] = "Inodes"; hdr[nc++] = "IUsed"; hdr[nc++] = "IFree"; hdr[nc++] = "IUse%";
    } else {
        hdr[nc++] = human ? "Size" : unit == 1024 ? "1M-blocks" : "1K-blocks";
        hdr[nc++] = "Used";
        hdr[nc++] = human ? "Avail" : "Available";
        hdr[nc++] = "Use%";
    }
    hdr[nc++] = "Mounted on";
    size_t nr = 0;
    for (size_t i = 0; i < nm && nr < DF_ROWS; i++) {
        const struct hp_mount *m = &mounts[i];
        if (!m->size_kb && !all)
            continue;
        int k = 0;
        snprintf(cell[nr][k++], 64, "%s", m->device);
        if (type)
            snprintf(cell[nr][k++], 64, "%s", m->type);
        if (inodes) {
            uint64_t it = m->size_kb / 16, iu = m->used_kb / 64 + (m->size_kb ? 1 : 0);
            if (iu > it)
                iu = it;
            snprintf(cell[nr][k++], 64, "%llu", (unsigned long long)it);
            snprintf(cell[nr][k++], 64, "%llu", (unsigned long long)iu);
            snprintf(cell[nr][k++], 64, "%llu", (unsigned long long)(it - iu));
            if (it)
                snprintf(cell[nr][k++], 64, "%llu%%", (unsigned long long)((iu * 100 + it - 1) / it));
            else
                snprintf(cell[nr][k++], 64, "-");
        } else {
            uint64_t av = df_avail(m);
            uint64_t vals[3] = { m->size_kb, m->used_kb, av };
            for (int j = 0; j < 3; j++) {
                if (human)
                    df_human(cell[nr][k++], 64, vals[j], false);
                else
                    snprintf(cell[nr][k++], 64, "%llu", (unsigned long long)((vals[j] + (uint64_t)unit - 1) / (uint64_t)unit));
            }
            if (m->size_kb)
                snprintf(cell[nr][k++], 64, "%llu%%",
                         (unsigned long long)((m->used_kb * 100 + m->used_kb + av - 1) / (m->used_kb + av ? m->used_kb + av : 1)));
            else
                snprintf(cell[nr][k++], 64, "-");
        }
        snprintf(cell[nr][k++], 64, "%s", m->mountpoint);
        nr++;
    }
    size_t w[DF_COLS];
    for (int k = 0; k < nc; k++) {
        w[k] = strlen(hdr[k]);
        if (k == 0 && w[k] < 14)
            w[k] = 14;
        size_t minw = (type && k == 1) || (!inodes && k == nc - 2) ? 4 : 5;   /* df's field_data widths */
        if (k > 0 && k < nc - 1 && w[k] < minw)
            w[k] = minw;
        for (size_t r = 0; r < nr; r++)
            if (strlen(cell[r][k]) > w[k])
                w[k] = strlen(cell[r][k]);
    }
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    for (size_t r = 0; r <= nr; r++) {
        for (int k = 0; k < nc; k++) {
            const char *s = r == 0 ? hdr[k] : cell[r - 1][k];
            bool left = k == 0 || k == nc - 1 || (type && k == 1) || (r == 0 && false);
            if (k)
                hp_buf_putc(&b, ' ');
            if (k == nc - 1)
                hp_buf_puts(&b, s);
            else if (left)
                hp_buf_printf(&b, "%-*s", (int)w[k], s);
            else
                hp_buf_printf(&b, "%*s", (int)w[k], s);
        }
        hp_buf_putc(&b, '\n');
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_mount(struct sh_cmd *c)
{
    if (c->argc > 1 && c->argv[1][0] != '-') {
        if (c->uid != 0) {
            sh_errs(c, c->persona->busybox ? "mount: permission denied (are you root?)\n"
                                           : "mount: only root can do that\n");
            return c->persona->busybox ? 255 : 1;
        }
        if (c->argc == 2) {
            if (c->persona->busybox)
                sh_errf(c, "mount: can't find %s in /etc/fstab\n", c->argv[1]);
            else
                sh_errf(c, "mount: %s: can't find in /etc/fstab.\n", c->argv[1]);
            return c->persona->busybox ? 255 : 1;
        }
        return 0;
    }
    const struct hp_mount *m;
    size_t n = hp_persona_mounts(c->persona, &m);
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    for (size_t i = 0; i < n; i++)
        hp_buf_printf(&b, "%s on %s type %s (%s)\n", m[i].device, m[i].mountpoint, m[i].type, m[i].options);
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* ==== CPU ======================================================================== */

static int cmd_nproc(struct sh_cmd *c)
{
    if (c->argc > 1 && strcmp(c->argv[1], "--version") == 0) {
        sys_gnu_version(c, "nproc", "Giuseppe Scrivano");
        return 0;
    }
    if (c->argc > 1 && c->argv[1][0] != '-')
        return sys_extra_operand(c, "nproc", c->argv[1], 1);
    sh_outf(c, "%u\n", c->persona->cpu_cores ? c->persona->cpu_cores : 1);
    return 0;
}

/* The value of "key" (up to the tab) in the first block of /proc/cpuinfo. */
static bool cpuinfo_field(const char *text, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) != 0 || (l[kl] != '\t' && l[kl] != ' ' && l[kl] != ':'))
            continue;
        const char *colon = strchr(l, ':');
        const char *eol = strchr(l, '\n');
        if (!colon || (eol && colon > eol))
            continue;
        colon++;
        while (*colon == ' ')
            colon++;
        size_t len = eol ? (size_t)(eol - colon) : strlen(colon);
        snprintf(out, n, "%.*s", (int)len, colon);
        return true;
    }
    return false;
}

static int cmd_lscpu(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    struct hp_buf ci, b;
    hp_buf_init(&ci, 1u << 20);
    if (sys_read_file(c, "/proc/cpuinfo", &ci) < 0 || ci.len == 0) {
        hp_buf_reset(&ci);
        hp_persona_gen(p, "cpuinfo", c->now_s, &ci);
    }
    const char *t = hp_buf_cstr(&ci);
    char vendor[64] = "", model[128] = "", family[16] = "", mdl[16] = "", stepping[16] = "",
         bogo[32] = "", flags[2048] = "";
    cpuinfo_field(t, "vendor_id", vendor, sizeof(vendor));
    if (!cpuinfo_field(t, "model name", model, sizeof(model)))
        snprintf(model, sizeof(model), "%s", p->cpu_model);
    cpuinfo_field(t, "cpu family", family, sizeof(family));
    cpuinfo_field(t, "model", mdl, sizeof(mdl));
    cpuinfo_field(t, "stepping", stepping, sizeof(stepping));
    if (!cpuinfo_field(t, "bogomips", bogo, sizeof(bogo)))
        cpuinfo_field(t, "BogoMIPS", bogo, sizeof(bogo));
    if (!cpuinfo_field(t, "flags", flags, sizeof(flags)))
        cpuinfo_field(t, "Features", flags, sizeof(flags));
    unsigned n = p->cpu_cores ? p->cpu_cores : 1;
    bool x86 = strcmp(p->machine, "x86_64") == 0;
    hp_buf_init(&b, 16384);
    hp_buf_printf(&b, "%-25s%s\n", "Architecture:", p->machine);
    if (x86) {
        hp_buf_printf(&b, "  %-23s%s\n", "CPU op-mode(s):", "32-bit, 64-bit");
        hp_buf_printf(&b, "  %-23s%s\n", "Address sizes:", "40 bits physical, 48 bits virtual");
    }
    hp_buf_printf(&b, "  %-23s%s\n", "Byte Order:", p->big_endian ? "Big Endian" : "Little Endian");
    hp_buf_printf(&b, "%-25s%u\n", "CPU(s):", n);
    hp_buf_printf(&b, "  %-23s%s%u\n", "On-line CPU(s) list:", n > 1 ? "0-" : "", n > 1 ? n - 1 : 0);
    if (vendor[0])
        hp_buf_printf(&b, "%-25s%s\n", "Vendor ID:", vendor);
    hp_buf_printf(&b, "  %-23s%s\n", "Model name:", model);
    if (family[0])
        hp_buf_printf(&b, "    %-21s%s\n", "CPU family:", family);
    if (mdl[0])
        hp_buf_printf(&b, "    %-21s%s\n", "Model:", mdl);
    hp_buf_printf(&b, "    %-21s%u\n", "Thread(s) per core:", 1);
    hp_buf_printf(&b, "    %-21s%u\n", "Core(s) per socket:", x86 ? 1 : n);
    hp_buf_printf(&b, "    %-21s%u\n", "Socket(s):", x86 ? n : 1);
    if (stepping[0])
        hp_buf_printf(&b, "    %-21s%s\n", "Stepping:", stepping);
    if (bogo[0])
        hp_buf_printf(&b, "    %-21s%s\n", "BogoMIPS:", bogo);
    if (flags[0])
        hp_buf_printf(&b, "    %-21s%s\n", "Flags:", flags);
    if (x86) {
        hp_buf_puts(&b, "Virtualization features: \n  Hypervisor vendor:     KVM\n  Virtualization type:   full\n");
        hp_buf_printf(&b, "Caches (sum of all):     \n  L1d:                   %u KiB (%u instance%s)\n"
                          "  L1i:                   %u KiB (%u instance%s)\n"
                          "  L2:                    %u MiB (%u instance%s)\n"
                          "  L3:                    16 MiB (%u instance%s)\n",
                      32 * n, n, n > 1 ? "s" : "", 32 * n, n, n > 1 ? "s" : "", 4 * n, n, n > 1 ? "s" : "",
                      n, n > 1 ? "s" : "");
        hp_buf_printf(&b, "NUMA:                    \n  NUMA node(s):          1\n  NUMA node0 CPU(s):     %s%u\n",
                      n > 1 ? "0-" : "", n > 1 ? n - 1 : 0);
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    hp_buf_free(&ci);
    return 0;
}

static int cmd_getconf(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    if (c->argc < 2) {
        sh_errs(c, "Usage: getconf [-v SPEC] VAR\n  or:  getconf [-v SPEC] PATH_VAR PATH\n");
        return 1;
    }
    const char *v = c->argv[1];
    if (strcmp(v, "-a") == 0) {
        sh_outf(c, "LONG_BIT                           %d\nPAGESIZE                           4096\n"
                   "_NPROCESSORS_CONF                  %u\n_NPROCESSORS_ONLN                  %u\n",
                p->elf_64 ? 64 : 32, p->cpu_cores, p->cpu_cores);
        return 0;
    }
    if (strcmp(v, "LONG_BIT") == 0)
        sh_outf(c, "%d\n", p->elf_64 ? 64 : 32);
    else if (strcmp(v, "_NPROCESSORS_ONLN") == 0 || strcmp(v, "_NPROCESSORS_CONF") == 0)
        sh_outf(c, "%u\n", p->cpu_cores ? p->cpu_cores : 1);
    else if (strcmp(v, "PAGESIZE") == 0 || strcmp(v, "PAGE_SIZE") == 0)
        sh_outs(c, "4096\n");
    else if (strcmp(v, "CLK_TCK") == 0)
        sh_outs(c, "100\n");
    else if (strcmp(v, "_PHYS_PAGES") == 0)
        sh_outf(c, "%llu\n", (unsigned long long)(p->mem_kb / 4));
    else if (strcmp(v, "GNU_LIBC_VERSION") == 0)
        sh_outs(c, "glibc 2.36\n");
    else if (strcmp(v, "ARG_MAX") == 0)
        sh_outs(c, "2097152\n");
    else {
        sh_errf(c, "getconf: Unrecognized variable '%s'\n", v);
        return 1;
    }
    return 0;
}

/* ==== kernel ================================================================== */

static int cmd_dmesg(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    if (c->uid != 0 && !p->busybox) {
        sh_errs(c, "dmesg: read kernel buffer failed: Operation not permitted\n");
        return 1;
    }
    for (int i = 1; i < c->argc; i++)
        if (strcmp(c->argv[i], "-c") == 0 || strcmp(c->argv[i], "-C") == 0 || strcmp(c->argv[i], "--clear") == 0)
            return 0;
    struct hp_buf v;
    hp_buf_init(&v, 4096);
    hp_persona_gen(p, "version", c->now_s, &v);
    while (v.len && v.data[v.len - 1] == '\n')
        v.len--;
    hp_buf_cstr(&v);
    unsigned mb = (unsigned)(p->mem_kb / 1024);
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    hp_buf_printf(&b, "[    0.000000] %s\n", v.len ? (const char *)v.data : "Linux version");
    if (strcmp(p->machine, "x86_64") == 0) {
        hp_buf_printf(&b, "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=%08llx-%04x-4%03x-a%03x-%012llx ro quiet\n",
                      p->kernel_release, (unsigned long long)(p->seed & 0xffffffff), (unsigned)(p->seed >> 32 & 0xffff),
                      (unsigned)(p->seed >> 20 & 0xfff), (unsigned)(p->seed >> 44 & 0xfff),
                      (unsigned long long)(p->seed >> 4 & 0xffffffffffffull));
        hp_buf_puts(&b, "[    0.000000] BIOS-provided physical RAM map:\n"
                        "[    0.000000] Hypervisor detected: KVM\n"
                        "[    0.000000] DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS rel-1.16.2-0-gea1b7a073390-prebuilt.qemu.org 04/01/2014\n");
        hp_buf_printf(&b, "[    0.004000] Memory: %uK/%lluK available\n", mb * 1000, (unsigned long long)p->mem_kb);
        hp_buf_printf(&b, "[    0.031337] smpboot: Allowing %u CPUs, 0 hotplug CPUs\n", p->cpu_cores);
        hp_buf_printf(&b, "[    0.212113] smpboot: CPU0: %s\n", p->cpu_model);
        hp_buf_printf(&b, "[    1.102231] virtio_net virtio0 %s: renamed from eth0\n", p->ifname);
        hp_buf_puts(&b, "[    1.484109] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.\n"
                        "[    2.011873] systemd[1]: systemd 252.22-1~deb12u1 running in system mode\n"
                        "[    2.913554] EXT4-fs (vda1): re-mounted. Quota mode: none.\n");
    } else {
        hp_buf_printf(&b, "[    0.000000] CPU: %s\n", p->cpu_model);
        hp_buf_printf(&b, "[    0.000000] Memory: %uMB = %uMB total\n", mb, mb);
        hp_buf_puts(&b, "[    0.120000] NET: Registered protocol family 16\n"
                        "[    1.020000] squashfs: version 4.0 (2009/01/31) Phillip Lougher\n");
        hp_buf_printf(&b, "[    2.310000] %s: link up (100Mbps/Full duplex)\n", p->ifname);
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    hp_buf_free(&v);
    return 0;
}

static int cmd_lsmod(struct sh_cmd *c)
{
    if (c->persona->busybox) {
        sh_outs(c, "Module                  Size  Used by    Tainted: P\n");
        return 0;
    }
    sh_outs(c, "Module                  Size  Used by\n"
               "binfmt_misc            28672  1\n"
               "nls_ascii              16384  1\n"
               "nls_cp437              20480  1\n"
               "vfat                   24576  1\n"
               "fat                    94208  1 vfat\n"
               "virtio_balloon          28672  0\n"
               "button                 24576  0\n"
               "joydev                 28672  0\n"
               "evdev                  28672  2\n"
               "serio_raw              20480  0\n"
               "loop                   32768  0\n"
               "efi_pstore             16384  0\n"
               "configfs               57344  1\n"
               "ip_tables              36864  0\n"
               "x_tables               53248  1 ip_tables\n"
               "autofs4                53248  2\n"
               "ext4                 987136  1\n"
               "crc16                  16384  1 ext4\n"
               "mbcache                16384  1 ext4\n"
               "jbd2                  167936  1 ext4\n"
               "virtio_net             65536  0\n"
               "net_failover           24576  1 virtio_net\n"
               "failover               16384  1 net_failover\n"
               "virtio_blk             20480  2\n"
               "virtio_pci             24576  0\n"
               "virtio_ring            45056  5 virtio_net,virtio_balloon,virtio_blk,virtio_pci\n"
               "virtio                 16384  5 virtio_net,virtio_balloon,virtio_blk,virtio_pci\n");
    return 0;
}

/* kmod: Debian's lsmod, insmod, rmmod, modprobe are links to it. */
static int cmd_kmod(struct sh_cmd *c)
{
    const char *a0 = c->argc > 0 ? strrchr(c->argv[0], '/') : NULL;
    a0 = a0 ? a0 + 1 : c->argc > 0 ? c->argv[0] : "kmod";
    if (!strcmp(a0, "lsmod") || (c->argc > 1 && !strcmp(a0, "kmod") && !strcmp(c->argv[1], "list")))
        return cmd_lsmod(c);
    if (!strcmp(a0, "kmod") && c->argc < 2) {
        sh_errs(c, "missing command\nkmod - Manage kernel modules: list, load, unload, etc\n"
                   "Usage:\n\tkmod [options] command [command_options]\n");
        return 1;
    }
    if (c->uid != 0 && strcmp(a0, "modinfo") != 0) {
        sh_errf(c, "%s: ERROR: could not insert module: Operation not permitted\n", a0);
        return 1;
    }
    return 0;                     /* modprobe/insmod/rmmod as root: accepted */
}

static int cmd_lspci(struct sh_cmd *c)
{
    sh_outs(c, "00:00.0 Host bridge: Intel Corporation 440FX - 82441FX PMC [Natoma] (rev 02)\n"
               "00:01.0 ISA bridge: Intel Corporation 82371SB PIIX3 ISA [Natoma/Triton II]\n"
               "00:01.1 IDE interface: Intel Corporation 82371SB PIIX3 IDE [Natoma/Triton II]\n"
               "00:01.3 Bridge: Intel Corporation 82371AB/EB/MB PIIX4 ACPI (rev 03)\n"
               "00:02.0 VGA compatible controller: Cirrus Logic GD 5446\n"
               "00:03.0 Ethernet controller: Red Hat, Inc. Virtio network device\n"
               "00:04.0 SCSI storage controller: Red Hat, Inc. Virtio block device\n"
               "00:05.0 Unclassified device [00ff]: Red Hat, Inc. Virtio memory balloon\n");
    return 0;
}

const struct sh_cmd_def sh_cmds_hw[] = {
    { "df", cmd_df, false },
    { "dmesg", cmd_dmesg, false },
    { "free", cmd_free, false },
    { "getconf", cmd_getconf, false },
    { "lscpu", cmd_lscpu, false },
    { "kmod", cmd_kmod, false },
    { "lsmod", cmd_lsmod, false },
    { "lspci", cmd_lspci, false },
    { "mount", cmd_mount, false },
    { "nproc", cmd_nproc, false },
    { NULL, NULL, false },
};
