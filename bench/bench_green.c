/*
 * bench_green.c - micro-benchmarks of green/'s primitives: the context
 * switch (against glibc's swapcontext, in the same run) and the Chase-Lev
 * deque.
 *
 * Output: one line per figure, exactly `bench: NAME VALUE UNIT`, so that
 * scripts can grep and compare runs.  Each figure is the median of RUNS
 * timed runs (the median shrugs off the noisy neighbour the reference VM
 * has, RUNTIME-NOTES caveat), timed with clock_gettime(CLOCK_MONOTONIC).
 * Record the CPU with every number you quote (`make bench-green` prints a
 * `cpu:` line first).
 *
 * deque_push_take_contended depends on how often the thief actually wins
 * items, which depends on whether it gets a core of its own: read it next
 * to deque_contended_stolen_share (RUNTIME-NOTES saw 34 ns at 0.01-3%
 * stolen and 110 ns at 60%).
 *
 * Built by `make bench-green` (mk/green.mk) at -O2 with the library's
 * switch (CTX=asm for this CPU) plus two extra copies of the same .S, one
 * with and one without the FP-environment save, renamed with
 * GREEN_CTX_SYMBOL_PREFIX, so the cost of that choice is measured side by
 * side.  The ucontext baseline calls getcontext/makecontext/swapcontext
 * directly: the library's ucontext backend cannot be linked next to the
 * assembly one (the two need different green_ctx layouts).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "ctx.h"
#include "deque.h"

#define RUNS 7

/* The two renamed copies of the switch (see the header). */
void fpenv_green_ctx_make(green_ctx *, void *, size_t, green_ctx_entry *, void *);
void fpenv_green_ctx_switch(green_ctx *, green_ctx *);
void nofpenv_green_ctx_make(green_ctx *, void *, size_t, green_ctx_entry *, void *);
void nofpenv_green_ctx_switch(green_ctx *, green_ctx *);

/* {====== timing */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs fn(iters) RUNS times (after one warm-up) and returns the median
 * time per iteration in ns; fn returns the ns it measured itself, so that
 * set-up work can stay outside the timed part. */
static double median_ns(double (*fn)(long), long iters)
{
    double t[RUNS];
    fn(iters / 10 + 1);
    for (int r = 0; r < RUNS; r++)
        t[r] = fn(iters) / (double)iters;
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

static void report(const char *name, double value, const char *unit)
{
    printf("bench: %s %.1f %s\n", name, value, unit);
    fflush(stdout);
}

/* }====== */

/* {====== context switch round trips */

#define STACK_SIZE (64 * 1024)
static _Alignas(16) char stack[STACK_SIZE];

/* One switch implementation under test. */
typedef struct {
    void (*make)(green_ctx *, void *, size_t, green_ctx_entry *, void *);
    void (*swtch)(green_ctx *, green_ctx *);
} switch_impl;

static const switch_impl *impl;
static green_ctx main_ctx, co_ctx;

static void ponger(void *arg)
{
    void (*swtch)(green_ctx *, green_ctx *) = impl->swtch;
    for (;;)
        swtch(&co_ctx, &main_ctx);
}

/* iters round trips: main -> co -> main.  Calls go through a pointer, as
 * a scheduler calling into the library would (no inlining either way). */
static double run_switch(long iters)
{
    void (*volatile swtch)(green_ctx *, green_ctx *) = impl->swtch;
    impl->make(&co_ctx, stack, sizeof stack, ponger, NULL);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        swtch(&main_ctx, &co_ctx);
    return now_ns() - t0;
}

static double run_make(long iters)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        impl->make(&co_ctx, stack, sizeof stack, ponger, NULL);
    return now_ns() - t0;
}

static ucontext_t uc_main, uc_co;

static void uc_ponger(void)
{
    for (;;)
        swapcontext(&uc_co, &uc_main);
}

static double run_ucontext(long iters)
{
    getcontext(&uc_co);
    uc_co.uc_stack.ss_sp = stack;
    uc_co.uc_stack.ss_size = sizeof stack;
    uc_co.uc_link = NULL;
    makecontext(&uc_co, uc_ponger, 0);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        swapcontext(&uc_main, &uc_co);
    return now_ns() - t0;
}

/* }====== */

/* {====== deque */

static green_deque dq;
static int dummy;

static double run_push_take(long iters)
{
    void *item;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        green_deque_push(&dq, &dummy);
        green_deque_take(&dq, &item);
    }
    return now_ns() - t0;
}

/* Steals from one thread, nobody contending: the cost of the fence, the
 * loads and the CAS.  The pushes are outside the timed part. */
static double run_steal(long iters)
{
    void *item;
    for (long i = 0; i < iters; i++)
        green_deque_push(&dq, &dummy);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        green_deque_steal(&dq, &item);
    return now_ns() - t0;
}

/* Owner push+take pairs while one thief steals nonstop (2 threads). */
static atomic_bool thief_stop;
static long pairs_total, stolen_total;     /* over all runs */

static void *thief(void *arg)
{
    void *item;
    long stolen = 0;
    while (!atomic_load_explicit(&thief_stop, memory_order_relaxed))
        stolen += green_deque_steal(&dq, &item) == GREEN_DEQUE_ITEM;
    return (void *)stolen;
}

static double run_push_take_contended(long iters)
{
    pthread_t th;
    atomic_store(&thief_stop, false);
    if (pthread_create(&th, NULL, thief, NULL) != 0)
        abort();
    double t = run_push_take(iters);
    void *stolen;
    atomic_store(&thief_stop, true);
    pthread_join(th, &stolen);
    pairs_total += iters;
    stolen_total += (long)stolen;
    return t;
}

/* }====== */

int main(void)
{
    static const switch_impl lib = { green_ctx_make, green_ctx_switch };
    static const switch_impl with_fpenv = { fpenv_green_ctx_make, fpenv_green_ctx_switch };
    static const switch_impl without_fpenv = { nofpenv_green_ctx_make, nofpenv_green_ctx_switch };

    impl = &lib;
    report("ctx_switch_roundtrip", median_ns(run_switch, 10000000), "ns");
    impl = &with_fpenv;
    report("ctx_switch_fpenv_roundtrip", median_ns(run_switch, 10000000), "ns");
    impl = &without_fpenv;
    report("ctx_switch_nofpenv_roundtrip", median_ns(run_switch, 10000000), "ns");
    impl = &lib;
    report("ctx_make", median_ns(run_make, 10000000), "ns");
    report("ucontext_switch_roundtrip", median_ns(run_ucontext, 200000), "ns");

    if (!green_deque_init(&dq, 1 << 20))
        abort();
    report("deque_push_take", median_ns(run_push_take, 10000000), "ns");
    report("deque_steal", median_ns(run_steal, 1000000), "ns");
    report("deque_push_take_contended", median_ns(run_push_take_contended, 2000000), "ns");
    report("deque_contended_stolen_share", 100.0 * (double)stolen_total / (double)pairs_total, "%");
    green_deque_destroy(&dq);
    return 0;
}
