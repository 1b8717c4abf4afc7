/*
 * classify.h - naming a captured payload's type and malware family.
 *
 * Every file an attacker uploads or makes the sensor download is stored by
 * SHA-256 (store.h); the capture worker then calls hp_classify_buf() on its
 * bytes.  Three independent views are combined:
 *
 *   - libmagic gives the human description and the MIME type (on the first
 *     1 MiB: enough for every magic rule that matters for typing);
 *   - our own pure parsers give the facts we index on: the ELF header
 *     (elf.h: architecture, class, byte order) and a script's interpreter
 *     (the shebang, or "sh" guessed for shebang-less text full of shell
 *     commands);
 *   - YARA rules name the family.  The built-in rule set is
 *     data/yara/<family>.yar, compiled into the binary (yaradata.c), plus
 *     optional site rules from a directory.  Each rule carries
 *     meta: family = "..." and priority = N; when several rules match, the
 *     highest priority wins (specific families beat the generic
 *     shell-dropper), the first matching on a tie.
 *
 * State (the magic cookies, the compiled rules) is set up once by
 * hp_classify_init() before the sandbox and is read-only afterwards; calls
 * to hp_classify_buf() are expected to be serialised (one capture worker).
 */
#ifndef HP_CLASSIFY_H
#define HP_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

struct hp_classify {
    char type[160];        /* libmagic description, e.g. "ELF 32-bit LSB executable, ARM, ..." */
    char mime[64];         /* libmagic MIME type, e.g. "application/x-executable" */
    char kind[16];         /* coarse: "elf", "script", "pe", "archive", "text", "data", "empty" */
    /* ELF only (else "" / 0) */
    char elf_arch[16];     /* "x86_64", "i386", "arm", "aarch64", "mips", "mips64", "powerpc",
                              "ppc64", "sparc", "m68k", "sh4", "arc", "riscv", "unknown" */
    int  elf_bits;         /* 32 / 64 */
    char elf_endian[8];    /* "little" / "big" */
    /* scripts only */
    char interpreter[32];  /* shebang basename ("sh", "bash", "perl", "python3"), or "sh"
                              guessed for shebang-less shell text; "" otherwise */
    char family[32];       /* "mirai", "gafgyt", "xorddos", "tsunami", "shellbot", "xmrig",
                              "mozi", "wannacry", "shell-dropper", or "unknown" */
    char rule[64];         /* the YARA rule that won, "" when family is unknown */
};

/* Load the libmagic database and compile the YARA rules: the built-in set
 * plus every <name>.yar in extra_dir when extra_dir is non-NULL.  Must be
 * called before the sandbox (it reads files).  Returns 0, or -1 with a
 * message in err (nothing stays initialised then). */
int hp_classify_init(const char *extra_dir, char *err, size_t errlen);

/* Classify len bytes (up to ~100 MB; the YARA scan has a 5 s timeout).
 * Never fails: what cannot be determined is "" / 0 / "unknown".  Without a
 * successful hp_classify_init() only the pure parsers run. */
void hp_classify_buf(const void *data, size_t len, struct hp_classify *out);

void hp_classify_shutdown(void);

/* The value of one libmagic limit (MAGIC_PARAM_*) as both cookies have it,
 * for tests: 0, or -1 when not initialised or the cookies disagree.
 * hp_classify_init() sets every limit explicitly (classify.c cl_magic_params). */
int hp_classify_magic_param(int param, size_t *value);

/* Pure helpers, exposed for tests and fuzzing (no libmagic / YARA). */

/* Interpreter named by a "#!" line at the start of data: the basename of
 * the program, or of its argument for "env" (options and VAR=value skipped)
 * and "busybox".  Writes at most outlen-1 characters of [A-Za-z0-9._+-]
 * and returns true, or returns false with out "" when there is no usable
 * shebang. */
bool hp_classify_shebang(const void *data, size_t len, char *out, size_t outlen);

/* True if data looks like shebang-less shell script text: mostly printable
 * and at least three command segments that start with a common shell
 * command (cd, wget, curl, chmod, ./x, ...), making up half of them. */
bool hp_classify_looks_shell(const void *data, size_t len);

#endif
