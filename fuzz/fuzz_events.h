/*
 * fuzz_events.h - what the session-machine harnesses do with the events a
 * session emits: build them (so the JSON writer runs on every field the
 * fuzzer reaches) and drop them.
 */
#ifndef HP_FUZZ_EVENTS_H
#define HP_FUZZ_EVENTS_H

#include "event.h"

static inline int fuzz_drop_event(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    if (e)
        hp_event_unref(e);
    return 0;
}

#endif
