/*
 * cpu_time.h - the test thread's CPU time, for the few unit tests that bound
 * what hostile input costs (work that grew with the square of its length, or
 * with a count the peer chose).  Thread CPU time, not wall time, so a loaded
 * machine cannot fail them; each bound leaves room for a sanitized build and
 * says what the unbounded code took.  Speed itself is measured in bench/.
 */
#ifndef HP_TEST_CPU_TIME_H
#define HP_TEST_CPU_TIME_H

#include <time.h>

static inline double test_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif
