/*
 * fiber.c - stackful coroutines over ucontext (see fiber.h).
 *
 * makecontext() passes only ints to the entry function, so the fiber being
 * started is handed over in a thread-local; the entry trampoline runs the
 * user function, marks the fiber finished and switches back for the last
 * time (it never returns, uc_link is unused).  swapcontext() also saves the
 * signal mask with a system call; at a few switches per command line that
 * cost is irrelevant next to the interpreter's own work.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "fiber.h"

#if defined(__SANITIZE_ADDRESS__)
#define HP_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_FIBER_ASAN 1
#endif
#endif
#ifdef HP_FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define FIBER_STACK     (8u << 20)   /* address space; resident only where touched */
#define FIBER_KEEP      (64u << 10)  /* stack kept resident in a pooled fiber */
#define FIBER_POOL_MAX  8

struct hp_fiber {
    ucontext_t ctx;
    ucontext_t caller;
    uint8_t *map;                    /* guard page + stack */
    size_t maplen;
    void (*fn)(void *);
    void *arg;
    bool finished;
    struct hp_fiber *next;           /* pool link */
#ifdef HP_FIBER_ASAN
    void *fake;                      /* ASan fake stack of the suspended side */
    const void *caller_bottom;
    size_t caller_size;
#endif
};

static __thread struct hp_fiber *current;
static __thread struct hp_fiber *starting;
static __thread struct hp_fiber *pool;
static __thread unsigned npool;

static size_t page_size(void)
{
    static size_t cached;
    if (!cached) {
        long p = sysconf(_SC_PAGESIZE);
        cached = p > 0 ? (size_t)p : 4096;
    }
    return cached;
}

struct hp_fiber *hp_fiber_get(void)
{
    if (pool) {
        struct hp_fiber *f = pool;
        pool = f->next;
        npool--;
        f->next = NULL;
        return f;
    }
    struct hp_fiber *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    size_t pg = page_size();
    f->maplen = FIBER_STACK + pg;
    f->map = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (f->map == MAP_FAILED) {
        free(f);
        return NULL;
    }
    mprotect(f->map, pg, PROT_NONE);          /* overflow faults instead of corrupting */
    return f;
}

static void fiber_destroy(struct hp_fiber *f)
{
    munmap(f->map, f->maplen);
    free(f);
}

void hp_fiber_put(struct hp_fiber *f)
{
    if (!f)
        return;
    if (npool >= FIBER_POOL_MAX) {
        fiber_destroy(f);
        return;
    }
    /* the stack grows down: give back all but its top */
    size_t pg = page_size();
    size_t stack = f->maplen - pg;
    if (stack > FIBER_KEEP)
        madvise(f->map + pg, stack - FIBER_KEEP, MADV_DONTNEED);
    f->next = pool;
    pool = f;
    npool++;
}

/* Switch from the caller's stack into f. */
static void switch_in(struct hp_fiber *f)
{
    struct hp_fiber *prev = current;
    current = f;
#ifdef HP_FIBER_ASAN
    void *fake = NULL;
    size_t pg = page_size();
    __sanitizer_start_switch_fiber(&fake, f->map + pg, f->maplen - pg);
    swapcontext(&f->caller, &f->ctx);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    swapcontext(&f->caller, &f->ctx);
#endif
    current = prev;
}

static void trampoline(void)
{
    struct hp_fiber *f = starting;
    starting = NULL;
#ifdef HP_FIBER_ASAN
    __sanitizer_finish_switch_fiber(NULL, &f->caller_bottom, &f->caller_size);
#endif
    f->fn(f->arg);
    f->finished = true;
#ifdef HP_FIBER_ASAN
    __sanitizer_start_switch_fiber(NULL, f->caller_bottom, f->caller_size);   /* this stack dies */
#endif
    setcontext(&f->caller);
    abort();                                  /* not reached */
}

/* getcontext() returns twice in principle: nothing computed before it is used after. */
static int fiber_prepare(struct hp_fiber *f)
{
    if (getcontext(&f->ctx) != 0)
        return -1;
    f->ctx.uc_stack.ss_sp = f->map + page_size();
    f->ctx.uc_stack.ss_size = f->maplen - page_size();
    return 0;
}

bool hp_fiber_start(struct hp_fiber *f, void (*fn)(void *), void *arg)
{
    if (fiber_prepare(f) != 0)
        return true;
    f->ctx.uc_link = NULL;
    f->fn = fn;
    f->arg = arg;
    f->finished = false;
    makecontext(&f->ctx, trampoline, 0);
    starting = f;
    switch_in(f);
    return f->finished;
}

bool hp_fiber_resume(struct hp_fiber *f)
{
    if (!f || f->finished)
        return true;
    switch_in(f);
    return f->finished;
}

void hp_fiber_yield(void)
{
    struct hp_fiber *f = current;
    if (!f)
        return;
#ifdef HP_FIBER_ASAN
    __sanitizer_start_switch_fiber(&f->fake, f->caller_bottom, f->caller_size);
    swapcontext(&f->ctx, &f->caller);
    __sanitizer_finish_switch_fiber(f->fake, &f->caller_bottom, &f->caller_size);
#else
    swapcontext(&f->ctx, &f->caller);
#endif
}

struct hp_fiber *hp_fiber_self(void)
{
    return current;
}
