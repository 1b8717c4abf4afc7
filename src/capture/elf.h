/*
 * elf.h - a minimal, pure ELF header parser for payload classification.
 *
 * Only the identification bytes and the fixed part of the ELF header are
 * read (through the bounds-checked hp_rd reader): class, byte order, type
 * and machine.  Program and section headers are never followed, so the
 * parser cannot be steered by offsets inside a hostile file.  A buffer
 * shorter than the complete header of its class is "not ELF": a truncated
 * file must not be reported with an architecture.
 */
#ifndef HP_ELF_H
#define HP_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_elf_info {
    bool is_elf;
    int bits;             /* 32 / 64 */
    bool big_endian;
    uint16_t machine;     /* e_machine */
    const char *arch;     /* static string, see hp_elf_arch_name() */
    uint16_t type;        /* e_type: 1 REL, 2 EXEC, 3 DYN, 4 CORE */
};

/* Parse the ELF header of data.  Returns false (and out->is_elf false,
 * out->arch "") when data is not an ELF file or is shorter than its header. */
bool hp_elf_parse(const void *data, size_t len, struct hp_elf_info *out);

/* Architecture name for e_machine ("x86_64", "arm", "mips64", ...), or
 * "unknown".  bits distinguishes mips from mips64. */
const char *hp_elf_arch_name(uint16_t machine, int bits);

#endif
