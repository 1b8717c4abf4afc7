/*
 * ttylog.h - session recordings as asciicast v2 files (asciinema play FILE).
 *
 * One file per interactive session: a JSON header line, then one line per
 * chunk [seconds, "o"|"i", "text"] for output to and input from the client.
 * Text is JSON-escaped through json.c; bytes that are not UTF-8 are written
 * as U+FFFD (asciicast has no binary form; the events keep the exact bytes).
 * The file is capped at max_bytes: past it, recording stops and the header
 * cannot be changed, so the last line says so.  Writes are buffered and
 * flushed every 64 KiB and at close.
 */
#ifndef HP_TTYLOG_H
#define HP_TTYLOG_H

#include <stddef.h>
#include <stdint.h>

struct hp_ttylog;

/* Creates dir/<session>.cast (dir created if missing).  NULL on error. */
struct hp_ttylog *hp_ttylog_open(const char *dir, const char *session, unsigned width, unsigned height,
                                 const char *term, uint64_t max_bytes);
void hp_ttylog_write(struct hp_ttylog *t, char kind, const void *data, size_t len);
void hp_ttylog_resize(struct hp_ttylog *t, unsigned width, unsigned height);
/* Close; returns the file's size.  *path_out (if not NULL) gets a malloc'd path. */
uint64_t hp_ttylog_close(struct hp_ttylog *t, char **path_out);

#endif
