/*
 * yaradata.c - the built-in YARA rules, compiled in as data.
 *
 * Each data/yara/<name>.yar, and the trap's data/trap/exploits.yar (as
 * "trap"), is embedded verbatim with the assembler's
 * .incbin (followed by a NUL, so it can go straight to
 * yr_compiler_add_string), exactly like src/shell/fsdata.c embeds the
 * personalities' images: the sensor needs no rule file at run time and the
 * rules stay readable YARA sources in the tree.  The Makefile rebuilds this
 * object when a .yar file changes.  A new rule file must be added both to
 * the assembler block and to the table below.
 */
#include <stddef.h>
#include "capture/yaradata.h"

extern const char hp_yar_wannacry[], hp_yar_wannacry_end[];
extern const char hp_yar_xorddos[], hp_yar_xorddos_end[];
extern const char hp_yar_mozi[], hp_yar_mozi_end[];
extern const char hp_yar_mirai[], hp_yar_mirai_end[];
extern const char hp_yar_gafgyt[], hp_yar_gafgyt_end[];
extern const char hp_yar_tsunami[], hp_yar_tsunami_end[];
extern const char hp_yar_shellbot[], hp_yar_shellbot_end[];
extern const char hp_yar_xmrig[], hp_yar_xmrig_end[];
extern const char hp_yar_shell_dropper[], hp_yar_shell_dropper_end[];
extern const char hp_yar_trap[], hp_yar_trap_end[];      /* the trap's exploit rules (payloadclass.h) */

__asm__(
    "  .pushsection .rodata\n"
    "  .balign 16\n"
    "  .globl hp_yar_wannacry\n  .hidden hp_yar_wannacry\n"
    "  .globl hp_yar_wannacry_end\n  .hidden hp_yar_wannacry_end\n"
    "hp_yar_wannacry:\n"
    "  .incbin \"data/yara/wannacry.yar\"\n"
    "hp_yar_wannacry_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_xorddos\n  .hidden hp_yar_xorddos\n"
    "  .globl hp_yar_xorddos_end\n  .hidden hp_yar_xorddos_end\n"
    "hp_yar_xorddos:\n"
    "  .incbin \"data/yara/xorddos.yar\"\n"
    "hp_yar_xorddos_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_mozi\n  .hidden hp_yar_mozi\n"
    "  .globl hp_yar_mozi_end\n  .hidden hp_yar_mozi_end\n"
    "hp_yar_mozi:\n"
    "  .incbin \"data/yara/mozi.yar\"\n"
    "hp_yar_mozi_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_mirai\n  .hidden hp_yar_mirai\n"
    "  .globl hp_yar_mirai_end\n  .hidden hp_yar_mirai_end\n"
    "hp_yar_mirai:\n"
    "  .incbin \"data/yara/mirai.yar\"\n"
    "hp_yar_mirai_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_gafgyt\n  .hidden hp_yar_gafgyt\n"
    "  .globl hp_yar_gafgyt_end\n  .hidden hp_yar_gafgyt_end\n"
    "hp_yar_gafgyt:\n"
    "  .incbin \"data/yara/gafgyt.yar\"\n"
    "hp_yar_gafgyt_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_tsunami\n  .hidden hp_yar_tsunami\n"
    "  .globl hp_yar_tsunami_end\n  .hidden hp_yar_tsunami_end\n"
    "hp_yar_tsunami:\n"
    "  .incbin \"data/yara/tsunami.yar\"\n"
    "hp_yar_tsunami_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_shellbot\n  .hidden hp_yar_shellbot\n"
    "  .globl hp_yar_shellbot_end\n  .hidden hp_yar_shellbot_end\n"
    "hp_yar_shellbot:\n"
    "  .incbin \"data/yara/shellbot.yar\"\n"
    "hp_yar_shellbot_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_xmrig\n  .hidden hp_yar_xmrig\n"
    "  .globl hp_yar_xmrig_end\n  .hidden hp_yar_xmrig_end\n"
    "hp_yar_xmrig:\n"
    "  .incbin \"data/yara/xmrig.yar\"\n"
    "hp_yar_xmrig_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_shell_dropper\n  .hidden hp_yar_shell_dropper\n"
    "  .globl hp_yar_shell_dropper_end\n  .hidden hp_yar_shell_dropper_end\n"
    "hp_yar_shell_dropper:\n"
    "  .incbin \"data/yara/shell_dropper.yar\"\n"
    "hp_yar_shell_dropper_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl hp_yar_trap\n  .hidden hp_yar_trap\n"
    "  .globl hp_yar_trap_end\n  .hidden hp_yar_trap_end\n"
    "hp_yar_trap:\n"
    "  .incbin \"data/trap/exploits.yar\"\n"
    "hp_yar_trap_end:\n"
    "  .byte 0\n"
    "  .popsection\n");

#define YARADATA(n) { #n, hp_yar_##n, hp_yar_##n##_end }

const struct hp_yaradata *hp_yaradata_files(size_t *n)
{
    static const struct { const char *name; const char *start, *end; } raw[] = {
        YARADATA(wannacry),
        YARADATA(xorddos),
        YARADATA(mozi),
        YARADATA(mirai),
        YARADATA(gafgyt),
        YARADATA(tsunami),
        YARADATA(shellbot),
        YARADATA(xmrig),
        YARADATA(shell_dropper),
        YARADATA(trap),             /* namespace "trap": HP_YARA_NS_TRAP */
    };
    static struct hp_yaradata files[sizeof(raw) / sizeof(raw[0])];
    static int ready;

    /* The lengths are link-time differences, not constants, so the table
     * is filled on first use (init runs once, on one thread). */
    if (!ready) {
        for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
            files[i].name = raw[i].name;
            files[i].text = raw[i].start;
            files[i].len = (size_t)(raw[i].end - raw[i].start);
        }
        ready = 1;
    }
    *n = sizeof(raw) / sizeof(raw[0]);
    return files;
}
