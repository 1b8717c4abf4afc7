/*
 * linedisc.h - line editing for the interactive shell, as bash's readline
 * shows it on a Debian terminal.  Internal to src/shell/.
 *
 * Keystrokes go in; echo bytes come out through a callback; the caller is
 * told when a line is complete, when ^C, ^D on an empty line or ^L arrive.
 * Bounded: the line holds at most HP_LD_LINE_MAX bytes (later bytes are
 * dropped unechoed, like a tty's canonical buffer), escape sequences at most
 * 32 bytes, the history at most 64 lines and 16 KiB.  hp_ld_free releases
 * the history.
 */
#ifndef HP_LINEDISC_H
#define HP_LINEDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_LD_LINE_MAX 4096
#define HP_LD_HIST_MAX 64
#define HP_LD_HIST_BYTES (16 * 1024)

enum hp_ld_event {
    HP_LD_NONE,     /* all input consumed, nothing to report */
    HP_LD_LINE,     /* a line is complete: hp_ld_line(); "\r\n" was echoed */
    HP_LD_INTR,     /* ^C: the line was discarded, "^C" was echoed */
    HP_LD_EOF,      /* ^D on an empty line */
    HP_LD_CLEAR,    /* ^L: the caller clears the screen and redraws (hp_ld_redraw) */
};

struct hp_ld {
    uint8_t *line;          /* grown as typed, up to HP_LD_LINE_MAX: an idle session holds little */
    size_t len, cap;
    bool fancy;             /* a real terminal: readline's cursor sequences, not "\b \b" */
    bool after_cr;          /* the last line ended with CR: one LF or NUL after it is part of it */
    bool line_done;         /* line[] holds a finished line until the next feed */
    uint8_t esc;            /* escape sequence state */
    uint8_t esc_len;
    uint8_t esc_final;
    /* history: malloc'd copies, oldest first; the oldest go when a limit is passed */
    uint8_t *hist[HP_LD_HIST_MAX];
    size_t hist_len[HP_LD_HIST_MAX];
    size_t nhist, hist_bytes;
    size_t hist_pos;        /* == nhist: editing a new line */
    uint8_t *saved;         /* that new line while the history is shown */
    size_t saved_len;
    void (*echo)(void *arg, const void *data, size_t len);
    void *arg;
};

/* fancy: the terminal understands ANSI sequences (any TERM but "dumb"). */
void hp_ld_init(struct hp_ld *ld, bool fancy, void (*echo)(void *, const void *, size_t), void *arg);
void hp_ld_free(struct hp_ld *ld);
/* Consume input until an event; *used is set to the bytes consumed.  Feed
 * the rest (data + *used) again after handling the event. */
enum hp_ld_event hp_ld_feed(struct hp_ld *ld, const uint8_t *data, size_t len, size_t *used);
/* After HP_LD_LINE: the line (valid until the next feed). */
const uint8_t *hp_ld_line(const struct hp_ld *ld, size_t *len);
/* Echo the current line again (after a prompt was redrawn). */
void hp_ld_redraw(struct hp_ld *ld);

#endif
