/*
 * urlx_int.h - internals shared by urlx.c (layers, literal URLs, records),
 * urlx_shell.c (shell-like command parsing) and urlx_decode.c (decoders).
 */
#ifndef HP_URLX_INT_H
#define HP_URLX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "urlx.h"

/* A decoding layer.  Positions found in it are mapped back to the input so
 * that reports come out in order of appearance: a whole-text decoding keeps
 * positions roughly in place (decoding only shrinks), a decoded run (base64)
 * maps everything to where the run started in its parent. */
struct ux_layer {
    const struct ux_layer *parent;
    bool fixed;
    size_t fixed_pos;
    const char *name;          /* reported: outermost decoding below "plain" */
    int depth;
};

struct ux_ctx;
struct ux_shell;

/* Normalise raw[0..len) (default scheme defscheme) and record it. */
void ux_report(struct ux_ctx *c, const struct ux_layer *L, size_t pos,
               const char *raw, size_t len, const char *defscheme, const char *how);

/* Shell-ish pass: tools (wget, curl, tftp, ftpget, nc, ftp scripts) with
 * simple variable substitution.  sh is scratch state owned by the context. */
void ux_shell_scan(struct ux_ctx *c, struct ux_shell *sh, const struct ux_layer *L,
                   const uint8_t *p, size_t n);
struct ux_shell *ux_shell_new(void);
void ux_shell_free(struct ux_shell *sh);
/* Ready a shell kept from an earlier scan for a new one (its per-scan budget). */
void ux_shell_rearm(struct ux_shell *sh);

/* Decoders.  Each returns false (and leaves out untouched) when the text has
 * nothing it would decode; otherwise out (cap >= n) holds the decoded text,
 * never longer than the input. */
bool ux_dec_entity(const uint8_t *p, size_t n, struct hp_buf *out);
bool ux_dec_url(const uint8_t *p, size_t n, struct hp_buf *out);
bool ux_dec_ifs(const uint8_t *p, size_t n, struct hp_buf *out);
bool ux_dec_hex(const uint8_t *p, size_t n, struct hp_buf *out);
/* Next base64 run of [min,max] chars at or after *pos with mixed case; false when none. */
bool ux_b64_run(const uint8_t *p, size_t n, size_t *pos, size_t min, size_t max,
                size_t *start, size_t *rlen);
bool ux_dec_b64(const uint8_t *p, size_t n, struct hp_buf *out);
bool ux_mostly_text(const uint8_t *p, size_t n);

static inline uint8_t ux_lc(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

#endif
