/*
 * yaradata.h - the built-in YARA rule files (data/yara/<name>.yar), compiled in.
 */
#ifndef HP_YARADATA_H
#define HP_YARADATA_H

#include <stddef.h>

struct hp_yaradata {
    const char *name;   /* file name without ".yar"; used as the YARA namespace */
    const char *text;   /* NUL-terminated rule source */
    size_t len;         /* length without the NUL */
};

/* The embedded rule files, in priority order; *n receives their number. */
const struct hp_yaradata *hp_yaradata_files(size_t *n);

#endif
