/*
 * fsdata.c - the base images of the personalities, compiled in as data.
 *
 * data/shell/<name>.fs is embedded verbatim with the assembler's .incbin
 * (followed by a NUL), so an image is read-only data in the binary, not C
 * code, and the sensor needs no file at run time.  The Makefile rebuilds
 * this object when a .fs file changes.  vfs.c parses a manifest once per
 * personality into its base tree.
 *
 * Manifest format (one entry per line; '#' comments and blank lines are
 * ignored; @NAME@ anywhere in a line is replaced by hp_persona_gen's
 * "var:NAME" of the personality, unknown names stay as they are):
 *
 *   d PATH MODE UID GID                   directory
 *   f PATH MODE UID GID [TEXT]            file whose body is TEXT and "\n" (none: empty)
 *   f PATH MODE UID GID <<TAG             file whose body is the next lines up to a line TAG
 *   l PATH [->] TARGET                    symbolic link
 *   x PATH MODE UID GID SIZE APPLET       program: an ELF of SIZE bytes for the machine,
 *                                         that runs the emulated APPLET
 *   g PATH NAME [MODE UID GID]            file made at read time by hp_persona_gen(NAME)
 *   c PATH MAJOR MINOR [MODE UID GID]     character device (b: block device)
 *   a                                     busybox applet links of the personality
 *                                         (hp_persona_gen "applet_links") to /bin/busybox
 *
 * Missing parent directories are made 0755 root; a later entry for the same
 * path replaces an earlier one.
 */
#include <stddef.h>
#include <string.h>
#include "shell/vfs.h"

extern const char sh_fsimg_debian[], sh_fsimg_debian_end[];
extern const char sh_fsimg_busybox[], sh_fsimg_busybox_end[];

__asm__(
    "  .pushsection .rodata\n"
    "  .balign 16\n"
    "  .globl sh_fsimg_debian\n  .hidden sh_fsimg_debian\n"
    "  .globl sh_fsimg_debian_end\n  .hidden sh_fsimg_debian_end\n"
    "sh_fsimg_debian:\n"
    "  .incbin \"data/shell/debian.fs\"\n"
    "sh_fsimg_debian_end:\n"
    "  .byte 0\n"
    "  .balign 16\n"
    "  .globl sh_fsimg_busybox\n  .hidden sh_fsimg_busybox\n"
    "  .globl sh_fsimg_busybox_end\n  .hidden sh_fsimg_busybox_end\n"
    "sh_fsimg_busybox:\n"
    "  .incbin \"data/shell/busybox.fs\"\n"
    "sh_fsimg_busybox_end:\n"
    "  .byte 0\n"
    "  .popsection\n");

const char *sh_fsdata_image(const char *name, size_t *len)
{
    static const struct { const char *name; const char *start, *end; } imgs[] = {
        { "debian", sh_fsimg_debian, sh_fsimg_debian_end },
        { "busybox", sh_fsimg_busybox, sh_fsimg_busybox_end },
    };
    for (size_t i = 0; name && i < sizeof(imgs) / sizeof(imgs[0]); i++) {
        if (strcmp(imgs[i].name, name) == 0) {
            if (len)
                *len = (size_t)(imgs[i].end - imgs[i].start);
            return imgs[i].start;
        }
    }
    return NULL;
}
