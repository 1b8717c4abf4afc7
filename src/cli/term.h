/*
 * term.h - making hostile strings safe to print on the operator's terminal.
 *
 * URLs, file names, shebang interpreters and YARA family names all come from
 * attackers; printed raw, an ESC sequence in one of them could retitle the
 * window, move the cursor over other rows or (on some terminals) do worse.
 * hp_term_escape keeps printable ASCII and valid UTF-8 text, and writes every
 * other byte as \xNN: C0 controls (including TAB, CR, LF), ESC, DEL,
 * backslash (so the output is unambiguous), bytes that are not part of a
 * valid UTF-8 sequence, and the valid-but-dangerous code points: C1 controls
 * U+0080-U+009F (U+009B is a one-byte CSI for some terminals) and the
 * bidirectional overrides/isolates and line separators that reorder what the
 * reader sees (U+061C, U+200E-U+200F, U+2028-U+202E, U+2066-U+2069).
 */
#ifndef HP_CLI_TERM_H
#define HP_CLI_TERM_H

#include <stddef.h>

/*
 * Escape n bytes of s into out (outlen >= 1; always NUL-terminated).  Output
 * stops before a character that would not fit whole, never inside a UTF-8
 * sequence or a \xNN.  Returns how many input bytes were rendered: less
 * than n means the output was truncated (callers may then append "...").
 * 4 * n + 1 bytes of out are always enough.
 */
size_t hp_term_escape(const void *s, size_t n, char *out, size_t outlen);

#endif
