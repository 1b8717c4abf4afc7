/*
 * http_inject.h - the commands an exploit injects, as the emulated shell's
 * parser splits them (never run), for the "injected" list of http.request.
 */
#ifndef HP_HTTP_INJECT_H
#define HP_HTTP_INJECT_H

#include <stddef.h>

struct hp_ev;

#define HP_HTTP_INJECTED_MAX 32   /* simple commands listed per request */

/* Append to ev's open array one array of words per simple command of text
 * (the classifier's extracted commands, one per line): commands inside a
 * $(...) or `...` that is the whole command, and the script of a
 * "sh -c 'SCRIPT'" after the sh command itself.  At most
 * HP_HTTP_INJECTED_MAX commands; nesting bounded. */
void hp_http_injected(struct hp_ev *ev, const char *text, size_t len);

#endif
