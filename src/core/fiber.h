/*
 * fiber.h - run synchronous code that may wait, on the one network thread.
 *
 * The emulated shell interprets a command line synchronously: `wget URL;
 * chmod +x x; ./x` needs the download's outcome before `chmod` runs.  A
 * download takes seconds and the event loop must not wait for it, so the
 * shell runs its input on a fiber: a separate stack that can give control
 * back to the event loop (hp_fiber_yield) in the middle of a command and be
 * continued later (hp_fiber_resume) from the callback that brings the
 * outcome.  Everything still runs on the network thread, one fiber at a
 * time; there is no preemption and no locking.
 *
 * Stacks are 8 MiB of address space reserved lazily (MAP_NORESERVE, with a
 * guard page below), so only the pages a line really touches cost memory;
 * a finished fiber returns its deep pages to the kernel and goes back to a
 * small pool.  Under AddressSanitizer every switch is annotated so that
 * ASan follows the stacks.
 */
#ifndef HP_FIBER_H
#define HP_FIBER_H

#include <stdbool.h>

struct hp_fiber;

/* A fiber from the pool (or a new one); NULL when out of memory. */
struct hp_fiber *hp_fiber_get(void);
/* Back to the pool; the fiber must not be suspended. */
void hp_fiber_put(struct hp_fiber *f);

/* Start fn(arg) on f.  Returns when fn returns (true) or yields (false). */
bool hp_fiber_start(struct hp_fiber *f, void (*fn)(void *), void *arg);
/* Continue a fiber that yielded.  Returns true when its function returned. */
bool hp_fiber_resume(struct hp_fiber *f);
/* From inside a fiber: give control back to whoever started or resumed it. */
void hp_fiber_yield(void);
/* The fiber running now, NULL on the thread's own stack. */
struct hp_fiber *hp_fiber_self(void);

#endif
