/*
 * test_fiber.c - stackful coroutines (src/core/fiber.c).
 *
 * The shell runs a command line on a fiber and parks it while a download
 * is in flight, so what matters is: start/yield/resume hand control back
 * and forth in the right order, hp_fiber_self() tells where we are, a deep
 * interpreter stack (~1 MB) fits, pooled fibers are reusable (also after a
 * deep run whose pages were given back), and a parked fiber can be resumed
 * from any depth of the event loop's stack, interleaved with other fibers.
 *
 * Assertions are made on the thread's own stack only: cmocka fails a test
 * by longjmp()ing to a jmp_buf on that stack, which must not happen from
 * inside a fiber.  Fiber functions record what they saw in a struct.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "core/fiber.h"

#define NOINLINE __attribute__((noinline))

struct probe {
    int counter;
    struct hp_fiber *self_seen[4];   /* hp_fiber_self() at each step */
    int yields;                      /* how often fn should yield */
    unsigned long sum;               /* result of the deep recursion */
    unsigned long canary;            /* a fiber-local value checked across yields */
};

static void fn_once(void *arg)
{
    struct probe *p = arg;
    p->self_seen[0] = hp_fiber_self();
    p->counter++;
}

/* Counts, records self, yields p->yields times; checks its locals survive. */
static void fn_yielder(void *arg)
{
    struct probe *p = arg;
    volatile unsigned long local = 0x5eed0000ul + (unsigned long)p->yields;
    p->counter++;
    p->self_seen[0] = hp_fiber_self();
    for (int i = 0; i < p->yields && i < 3; i++) {
        hp_fiber_yield();
        p->counter++;
        p->self_seen[i + 1] = hp_fiber_self();
    }
    p->canary = local;
}

static void test_immediate_return(void **state)
{
    (void)state;
    struct probe p;
    memset(&p, 0, sizeof(p));
    assert_null(hp_fiber_self());
    struct hp_fiber *f = hp_fiber_get();
    assert_non_null(f);
    assert_true(hp_fiber_start(f, fn_once, &p));
    assert_int_equal(p.counter, 1);
    assert_ptr_equal(p.self_seen[0], f);
    assert_null(hp_fiber_self());
    /* resuming a finished fiber does nothing and says "finished" */
    assert_true(hp_fiber_resume(f));
    assert_int_equal(p.counter, 1);
    hp_fiber_put(f);
}

static void test_yield_twice(void **state)
{
    (void)state;
    struct probe p;
    memset(&p, 0, sizeof(p));
    p.yields = 2;
    struct hp_fiber *f = hp_fiber_get();
    assert_non_null(f);
    assert_false(hp_fiber_start(f, fn_yielder, &p));
    assert_int_equal(p.counter, 1);
    assert_null(hp_fiber_self());
    assert_false(hp_fiber_resume(f));
    assert_int_equal(p.counter, 2);
    assert_null(hp_fiber_self());
    assert_true(hp_fiber_resume(f));
    assert_int_equal(p.counter, 3);
    assert_null(hp_fiber_self());
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(p.self_seen[i], f);
    assert_int_equal(p.canary, 0x5eed0002ul);
    assert_true(hp_fiber_resume(f));
    assert_int_equal(p.counter, 3);
    hp_fiber_put(f);
}

/* hp_fiber_yield() on the thread's own stack is a no-op. */
static void test_yield_outside(void **state)
{
    (void)state;
    hp_fiber_yield();
    assert_null(hp_fiber_self());
    assert_true(hp_fiber_resume(NULL));
}

/* ~1 MB of stack: 2000 frames each holding 256 bytes. */
#define DEEP_LEVELS 2000

static NOINLINE unsigned long deep(int level, bool yield_at_bottom)
{
    volatile unsigned char pad[256];
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = (unsigned char)(level + (int)i);
    unsigned long below = 0;
    if (level > 0)
        below = deep(level - 1, yield_at_bottom);
    else if (yield_at_bottom)
        hp_fiber_yield();                 /* parked with the whole depth live */
    unsigned long sum = below;
    for (size_t i = 0; i < sizeof(pad); i++)
        sum += pad[i];
    return sum;
}

static unsigned long deep_expected(void)
{
    unsigned long sum = 0;
    for (int level = 0; level <= DEEP_LEVELS; level++)
        for (int i = 0; i < 256; i++)
            sum += (unsigned char)(level + i);
    return sum;
}

static void fn_deep(void *arg)
{
    struct probe *p = arg;
    p->sum = deep(DEEP_LEVELS, p->yields > 0);
    p->counter++;
}

static void test_deep_stack(void **state)
{
    (void)state;
    unsigned long want = deep_expected();
    struct probe p;
    memset(&p, 0, sizeof(p));
    struct hp_fiber *f = hp_fiber_get();
    assert_non_null(f);
    assert_true(hp_fiber_start(f, fn_deep, &p));
    assert_int_equal(p.counter, 1);
    assert_int_equal(p.sum, want);
    hp_fiber_put(f);

    /* again on the pooled fiber (its deep pages were given back), parked
     * at the bottom of the recursion in between */
    memset(&p, 0, sizeof(p));
    p.yields = 1;
    f = hp_fiber_get();
    assert_non_null(f);
    assert_false(hp_fiber_start(f, fn_deep, &p));
    assert_int_equal(p.counter, 0);
    assert_true(hp_fiber_resume(f));
    assert_int_equal(p.counter, 1);
    assert_int_equal(p.sum, want);
    hp_fiber_put(f);
}

#define POOL_N 20

static void test_pool_reuse(void **state)
{
    (void)state;
    struct hp_fiber *fs[POOL_N];
    struct probe p[POOL_N];
    for (int round = 0; round < 2; round++) {
        memset(p, 0, sizeof(p));
        for (int i = 0; i < POOL_N; i++) {
            fs[i] = hp_fiber_get();
            assert_non_null(fs[i]);
            for (int j = 0; j < i; j++)
                assert_ptr_not_equal(fs[i], fs[j]);
        }
        /* all 20 parked at once, then finished in reverse order */
        for (int i = 0; i < POOL_N; i++) {
            p[i].yields = 1;
            assert_false(hp_fiber_start(fs[i], fn_yielder, &p[i]));
        }
        for (int i = POOL_N - 1; i >= 0; i--) {
            assert_true(hp_fiber_resume(fs[i]));
            assert_int_equal(p[i].counter, 2);
            assert_ptr_equal(p[i].self_seen[0], fs[i]);
            assert_ptr_equal(p[i].self_seen[1], fs[i]);
            assert_int_equal(p[i].canary, 0x5eed0001ul);
        }
        for (int i = 0; i < POOL_N; i++)
            hp_fiber_put(fs[i]);
    }
    struct probe q;
    memset(&q, 0, sizeof(q));
    struct hp_fiber *f = hp_fiber_get();
    assert_non_null(f);
    assert_true(hp_fiber_start(f, fn_once, &q));
    assert_int_equal(q.counter, 1);
    hp_fiber_put(f);
    hp_fiber_put(NULL);
}

/* Resume from a few frames deeper than the start, with locals of its own
 * that the fiber's run must not disturb. */
static NOINLINE bool resume_nested(struct hp_fiber *f, int depth, unsigned *guard)
{
    volatile unsigned char pad[512];
    memset((void *)pad, 0xa5, sizeof(pad));
    bool done = depth > 1 ? resume_nested(f, depth - 1, guard) : hp_fiber_resume(f);
    for (size_t i = 0; i < sizeof(pad); i++)
        if (pad[i] != 0xa5)
            (*guard)++;
    return done;
}

static NOINLINE bool start_shallow(struct hp_fiber *f, struct probe *p)
{
    return hp_fiber_start(f, fn_yielder, p);
}

static void test_resume_other_depth(void **state)
{
    (void)state;
    unsigned guard = 0;
    struct probe p;
    memset(&p, 0, sizeof(p));
    p.yields = 3;
    struct hp_fiber *f = hp_fiber_get();
    assert_non_null(f);
    assert_false(start_shallow(f, &p));
    assert_int_equal(p.counter, 1);
    assert_false(resume_nested(f, 3, &guard));       /* deeper than the start */
    assert_int_equal(p.counter, 2);
    assert_false(hp_fiber_resume(f));                 /* shallower again */
    assert_int_equal(p.counter, 3);
    assert_true(resume_nested(f, 2, &guard));
    assert_int_equal(p.counter, 4);
    assert_int_equal(guard, 0);
    assert_int_equal(p.canary, 0x5eed0003ul);
    assert_null(hp_fiber_self());
    hp_fiber_put(f);
}

/* Two parked fibers continued alternately, as two sessions would be. */
static void test_interleaved(void **state)
{
    (void)state;
    struct probe a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.yields = 2;
    b.yields = 1;
    struct hp_fiber *fa = hp_fiber_get(), *fb = hp_fiber_get();
    assert_non_null(fa);
    assert_non_null(fb);
    assert_false(hp_fiber_start(fa, fn_yielder, &a));
    assert_false(hp_fiber_start(fb, fn_yielder, &b));
    assert_false(hp_fiber_resume(fa));
    assert_true(hp_fiber_resume(fb));
    assert_true(hp_fiber_resume(fa));
    assert_int_equal(a.counter, 3);
    assert_int_equal(b.counter, 2);
    assert_ptr_equal(a.self_seen[2], fa);
    assert_ptr_equal(b.self_seen[1], fb);
    assert_int_equal(a.canary, 0x5eed0002ul);
    assert_int_equal(b.canary, 0x5eed0001ul);
    hp_fiber_put(fa);
    hp_fiber_put(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_immediate_return),
        cmocka_unit_test(test_yield_twice),
        cmocka_unit_test(test_yield_outside),
        cmocka_unit_test(test_deep_stack),
        cmocka_unit_test(test_pool_reuse),
        cmocka_unit_test(test_resume_other_depth),
        cmocka_unit_test(test_interleaved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
