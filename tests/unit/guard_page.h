/*
 * guard_page.h - inputs copied flush against a PROT_NONE page, so that a read
 * of even one byte past the end faults without ASan.
 *
 * setup_guard() / teardown_guard() are cmocka group fixtures; guarded() copies
 * up to GUARD_SPAN bytes so that the last one is the last readable byte.
 */
#ifndef GUARD_PAGE_H
#define GUARD_PAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUARD_SPAN (64 * 1024)          /* largest input a test may pass */
static uint8_t *guard_base;             /* GUARD_SPAN readable bytes, then a PROT_NONE page */
static size_t guard_page;

static inline int setup_guard(void **state)
{
    (void)state;
    guard_page = (size_t)sysconf(_SC_PAGESIZE);
    guard_base = mmap(NULL, GUARD_SPAN + guard_page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_base == MAP_FAILED)
        return -1;
    return mprotect(guard_base + GUARD_SPAN, guard_page, PROT_NONE);
}

static inline int teardown_guard(void **state)
{
    (void)state;
    return munmap(guard_base, GUARD_SPAN + guard_page);
}

/* Copy p so that its last byte is the last readable one. */
static inline const uint8_t *guarded(const void *p, size_t n)
{
    assert_true(n <= GUARD_SPAN);
    uint8_t *dst = guard_base + GUARD_SPAN - n;
    if (n)
        memcpy(dst, p, n);
    return dst;
}

#endif
