/*
 * fpnames.c - fingerprint -> client name tables, compiled in.
 *
 * The .tsv files are embedded verbatim with the assembler's .incbin (as
 * src/capture/yaradata.c embeds the YARA rules) so the sensor needs no data
 * file at run time and the lists stay plain text under data/fingerprints/
 * with their source and licence in the header.  On first lookup each file
 * is copied once, split in place into lines, and every "fp<TAB>name" line
 * goes into one open-addressing hash table keyed by (kind, lowercased fp).
 * Nothing here reads peer data except the looked-up fingerprint, which is
 * only hashed and compared.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/fpnames.h"

extern const char hp_fp_ja3[], hp_fp_ja3_end[];
extern const char hp_fp_ja4[], hp_fp_ja4_end[];
extern const char hp_fp_hassh[], hp_fp_hassh_end[];
extern const char hp_fp_hasshserver[], hp_fp_hasshserver_end[];

#define FP_INCBIN(sym, file)                                          \
    "  .balign 16\n"                                                  \
    "  .globl " sym "\n  .hidden " sym "\n"                           \
    "  .globl " sym "_end\n  .hidden " sym "_end\n"                   \
    sym ":\n"                                                         \
    "  .incbin \"" file "\"\n"                                        \
    sym "_end:\n"                                                     \
    "  .byte 0\n"

__asm__("  .pushsection .rodata\n"
        FP_INCBIN("hp_fp_ja3", "data/fingerprints/ja3.tsv")
        FP_INCBIN("hp_fp_ja4", "data/fingerprints/ja4.tsv")
        FP_INCBIN("hp_fp_hassh", "data/fingerprints/hassh.tsv")
        FP_INCBIN("hp_fp_hasshserver", "data/fingerprints/hasshserver.tsv")
        "  .popsection\n");

#define FP_KEY_MAX 63       /* JA4 is 36 characters, MD5 hex 32 */

struct fp_entry {
    const char *key;        /* lowercased, in the table's own copy */
    const char *name;
    uint8_t kind;
};

static struct {
    char *text[HP_FP_NKINDS];   /* the split copies the entries point into */
    struct fp_entry *slots;
    size_t mask;            /* slots - 1; power of two */
    size_t count[HP_FP_NKINDS];
} fp_table;

static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static uint64_t fp_hash(enum hp_fp_kind kind, const char *s)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;   /* FNV-1a */
    for (; *s; s++) {
        h ^= (uint8_t)tolower((unsigned char)*s);
        h *= 1099511628211ull;
    }
    return h;
}

static void fp_insert(enum hp_fp_kind kind, const char *key, const char *name)
{
    size_t i = (size_t)fp_hash(kind, key) & fp_table.mask;
    for (;;) {
        struct fp_entry *e = &fp_table.slots[i];
        if (!e->key) {
            e->key = key;
            e->name = name;
            e->kind = (uint8_t)kind;
            fp_table.count[kind]++;
            return;
        }
        if (e->kind == kind && strcmp(e->key, key) == 0)
            return;         /* first line wins */
        i = (i + 1) & fp_table.mask;
    }
}

/* Split a copy of one embedded file into the table. */
static void fp_load_file(enum hp_fp_kind kind, const char *start, const char *end)
{
    size_t len = (size_t)(end - start);
    char *text = malloc(len + 1), *line, *save = NULL;

    if (!text)
        return;
    memcpy(text, start, len);
    text[len] = '\0';
    fp_table.text[kind] = text;     /* kept for the life of the process */
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab || tab == line || (size_t)(tab - line) > FP_KEY_MAX)
            continue;
        *tab = '\0';
        for (char *p = line; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        size_t nl = strlen(tab + 1);
        if (nl && tab[nl] == '\r')
            tab[nl] = '\0';
        fp_insert(kind, line, tab + 1);
    }
}

static void fp_init(void)
{
    static const struct { const char *s, *e; } files[HP_FP_NKINDS] = {
        [HP_FP_JA3] = { hp_fp_ja3, hp_fp_ja3_end },
        [HP_FP_JA4] = { hp_fp_ja4, hp_fp_ja4_end },
        [HP_FP_HASSH] = { hp_fp_hassh, hp_fp_hassh_end },
        [HP_FP_HASSHSERVER] = { hp_fp_hasshserver, hp_fp_hasshserver_end },
    };
    size_t lines = 0, slots = 16;

    for (int k = 0; k < HP_FP_NKINDS; k++)
        for (const char *p = files[k].s; p < files[k].e; p++)
            lines += *p == '\n';
    while (slots < 2 * lines + 2)
        slots *= 2;
    fp_table.slots = calloc(slots, sizeof(*fp_table.slots));
    if (!fp_table.slots)
        return;
    fp_table.mask = slots - 1;
    for (int k = 0; k < HP_FP_NKINDS; k++)
        fp_load_file((enum hp_fp_kind)k, files[k].s, files[k].e);
}

const char *hp_fpname(enum hp_fp_kind kind, const char *fp)
{
    char key[FP_KEY_MAX + 1];
    size_t n;

    if (!fp || (unsigned)kind >= HP_FP_NKINDS)
        return NULL;
    pthread_once(&fp_once, fp_init);
    n = strlen(fp);
    if (!fp_table.slots || n == 0 || n > FP_KEY_MAX)
        return NULL;
    for (size_t j = 0; j <= n; j++)
        key[j] = (char)tolower((unsigned char)fp[j]);
    for (size_t i = (size_t)fp_hash(kind, key) & fp_table.mask;; i = (i + 1) & fp_table.mask) {
        const struct fp_entry *e = &fp_table.slots[i];
        if (!e->key)
            return NULL;
        if (e->kind == kind && strcmp(e->key, key) == 0)
            return e->name;
    }
}

size_t hp_fpname_count(enum hp_fp_kind kind)
{
    if ((unsigned)kind >= HP_FP_NKINDS)
        return 0;
    pthread_once(&fp_once, fp_init);
    return fp_table.count[kind];
}
