/*
 * elf.c - ELF header parsing for payload classification (see elf.h).
 *
 * Layout (both classes): e_ident[16] (magic, EI_CLASS, EI_DATA, ...), then
 * e_type and e_machine as 16-bit words in the file's byte order.  The
 * complete header is 52 bytes for ELFCLASS32 and 64 for ELFCLASS64; we
 * require that much so a 10-byte stub is not called an ARM executable.
 */
#include <string.h>
#include "capture/elf.h"
#include "reader.h"

#define ELF_EHDR32_LEN 52
#define ELF_EHDR64_LEN 64

/* e_machine values (from the System V gABI / <elf.h>). */
static const struct { uint16_t machine; const char *name; } elf_machines[] = {
    { 2, "sparc" },     /* EM_SPARC */
    { 3, "i386" },      /* EM_386 */
    { 4, "m68k" },      /* EM_68K */
    { 6, "i386" },      /* EM_IAMCU */
    { 8, "mips" },      /* EM_MIPS (mips64 when ELFCLASS64) */
    { 10, "mips" },     /* EM_MIPS_RS3_LE */
    { 18, "sparc" },    /* EM_SPARC32PLUS */
    { 20, "powerpc" },  /* EM_PPC */
    { 21, "ppc64" },    /* EM_PPC64 */
    { 40, "arm" },      /* EM_ARM */
    { 42, "sh4" },      /* EM_SH */
    { 43, "sparc" },    /* EM_SPARCV9 */
    { 45, "arc" },      /* EM_ARC */
    { 62, "x86_64" },   /* EM_X86_64 */
    { 93, "arc" },      /* EM_ARC_COMPACT */
    { 183, "aarch64" }, /* EM_AARCH64 */
    { 195, "arc" },     /* EM_ARC_COMPACT2 */
    { 243, "riscv" },   /* EM_RISCV */
};

const char *hp_elf_arch_name(uint16_t machine, int bits)
{
    for (size_t i = 0; i < sizeof(elf_machines) / sizeof(elf_machines[0]); i++) {
        if (elf_machines[i].machine != machine)
            continue;
        if (machine == 8 && bits == 64)
            return "mips64";
        return elf_machines[i].name;
    }
    return "unknown";
}

bool hp_elf_parse(const void *data, size_t len, struct hp_elf_info *out)
{
    static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
    struct hp_rd r;

    memset(out, 0, sizeof(*out));
    out->arch = "";
    hp_rd_init(&r, data, len);
    if (!hp_rd_starts_with(&r, magic, sizeof(magic)))
        return false;
    hp_rd_skip(&r, sizeof(magic));
    uint8_t cls = hp_rd_u8(&r);     /* EI_CLASS: 1 = 32-bit, 2 = 64-bit */
    uint8_t enc = hp_rd_u8(&r);     /* EI_DATA: 1 = LSB, 2 = MSB */
    if (!hp_rd_ok(&r) || (cls != 1 && cls != 2) || (enc != 1 && enc != 2))
        return false;
    if (len < (cls == 1 ? ELF_EHDR32_LEN : ELF_EHDR64_LEN))
        return false;
    hp_rd_init(&r, data, len);
    hp_rd_skip(&r, 16);             /* e_ident */
    bool be = enc == 2;
    uint16_t type = be ? hp_rd_u16be(&r) : hp_rd_u16le(&r);
    uint16_t machine = be ? hp_rd_u16be(&r) : hp_rd_u16le(&r);
    if (!hp_rd_ok(&r))
        return false;
    out->is_elf = true;
    out->bits = cls == 1 ? 32 : 64;
    out->big_endian = be;
    out->type = type;
    out->machine = machine;
    out->arch = hp_elf_arch_name(machine, out->bits);
    return true;
}
