/*
 * test_pool.c - the blocking-work pool (green/pool.c): jobs run off the
 * workers while only their process parks, per-owner fairness, and jobs
 * that outlive their process or their pool.  C processes and C jobs only:
 * no WebAssembly.  Jobs that must block wait on a pipe (a "gate") that
 * the test opens when it has seen what it wanted; every test has a
 * timeout, so a hang fails instead of stalling the suite.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "green.h"

TestSuite(pool, .timeout = 60);

/* {====== jobs */

typedef struct gate {
    int fd[2];
} gate;

static void gate_init(gate *g)
{
    cr_assert_eq(pipe(g->fd), 0);
}

/* Let n blocked jobs through. */
static void gate_open(gate *g, int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(write(g->fd[1], "x", 1), 1);
}

static void gate_close(gate *g)
{
    close(g->fd[0]);
    close(g->fd[1]);
}

typedef struct tjob {
    green_job job;
    gate *gate;                 /* NULL: do not block */
    long in, out;               /* the question and the answer */
    atomic_int *order;          /* where the finished jobs count */
    int rank;                   /* this job's place in that count */
    atomic_int *freed;
} tjob;

static void tjob_work(green_job *j)
{
    tjob *t = (tjob *)j;
    if (t->gate) {
        char c;
        while (read(t->gate->fd[0], &c, 1) < 0 && errno == EINTR)
            ;
    }
    t->out = t->in * 2;
    if (t->order)
        t->rank = atomic_fetch_add(t->order, 1);
}

static void tjob_free(green_job *j)
{
    tjob *t = (tjob *)j;
    if (t->freed)
        atomic_fetch_add(t->freed, 1);
    free(t);
}

static tjob *tjob_new(long in, gate *g, atomic_int *order, atomic_int *freed)
{
    tjob *t = calloc(1, sizeof *t);
    cr_assert(t);
    green_job_init(&t->job, tjob_work, tjob_free);
    t->in = in;
    t->gate = g;
    t->order = order;
    t->freed = freed;
    return t;
}

/* Wait, off the scheduler, until j is done (the test's timeout bounds it). */
static void wait_done(green_job *j)
{
    while (!green_job_done(j))
        usleep(1000);
}

/* }====== */

/* {====== C processes that use the pool */

typedef struct pproc {
    green_proc g;
    green_pool *pool;
    green_pool_owner owner;
    gate *gate;
    tjob *job;
    long in, result;
    atomic_long *done;
    atomic_int *freed;
} pproc;

static void pproc_free(green_proc *g)
{
    free(g);
}

/* Submit a job, park, and collect the answer when woken: the shape of a
 * restartable host call. */
static green_step asker(green_proc *g)
{
    pproc *p = (pproc *)g;
    if (green_cancelled(g)) {
        if (p->job)
            green_job_release(&p->job->job);
        green_pool_owner_drop(p->pool, &p->owner);
        return GREEN_EXIT;
    }
    if (!p->job) {
        p->job = tjob_new(p->in, p->gate, NULL, p->freed);
        cr_assert(green_pool_submit(p->pool, &p->owner, &p->job->job, g));
        return GREEN_BLOCK;
    }
    if (!green_job_done(&p->job->job))
        return GREEN_BLOCK;             /* a spurious wake-up */
    cr_assert(green_job_ran(&p->job->job));
    p->result = p->job->out;
    green_job_release(&p->job->job);
    p->job = NULL;
    green_pool_owner_drop(p->pool, &p->owner);
    atomic_fetch_add(p->done, p->result);
    return GREEN_EXIT;
}

/* Yields `in` times, then counts itself done. */
static green_step ticker(green_proc *g)
{
    pproc *p = (pproc *)g;
    if (p->in-- > 0)
        return GREEN_YIELD;
    atomic_fetch_add(p->done, 1);
    return GREEN_EXIT;
}

static pproc *pspawn(green_sched *s, green_run_fn fn, green_pool *pool, long in, gate *g,
                     atomic_long *done)
{
    pproc *p = calloc(1, sizeof *p);
    cr_assert(p);
    p->pool = pool;
    green_pool_owner_init(&p->owner);
    p->gate = g;
    p->in = in;
    p->done = done;
    green_spawn(s, &p->g, fn, pproc_free, p);
    return p;
}

static green_sched *start(int workers)
{
    green_config cfg = { .workers = workers };
    green_sched *s = green_sched_new(&cfg);
    cr_assert(s);
    cr_assert_eq(green_sched_start(s), 0);
    return s;
}

/* }====== */

/* 200 processes on one worker each ask the pool to double a number and
 * park; every one is woken with its own answer. */
Test(pool, processes_get_their_answers)
{
    green_sched *s = start(1);
    green_pool *pool = green_pool_new(3, 2);
    cr_assert(pool);
    atomic_long sum = 0;
    for (long i = 1; i <= 200; i++)
        green_release(&pspawn(s, asker, pool, i, NULL, &sum)->g);
    green_sched_wait_all(s);
    cr_assert_eq(sum, 200 * 201);       /* 2 * (1 + ... + 200) */
    green_sched_stop(s);
    green_sched_free(s);
    green_pool_free(pool);
}

/* A job stuck in the kernel holds a pool thread, not the worker: on one
 * worker a ticker yields 10,000 times and ends while the job still
 * blocks; only then does the test let the job finish. */
Test(pool, blocked_job_does_not_stop_the_worker)
{
    green_sched *s = start(1);
    green_pool *pool = green_pool_new(1, 1);
    gate g;
    gate_init(&g);
    atomic_long asked = 0, ticked = 0;
    pproc *a = pspawn(s, asker, pool, 21, &g, &asked);
    green_release(&pspawn(s, ticker, pool, 10000, NULL, &ticked)->g);
    while (atomic_load(&ticked) == 0)
        usleep(1000);
    cr_assert_eq(atomic_load(&asked), 0, "the job cannot have finished: its gate is shut");
    cr_assert(green_parked(&a->g), "the asker waits parked, not on the worker");
    gate_open(&g, 1);
    green_sched_wait_all(s);
    cr_assert_eq(atomic_load(&asked), 42);
    green_release(&a->g);
    green_sched_stop(s);
    green_sched_free(s);
    green_pool_free(pool);
    gate_close(&g);
}

/* One thread, one job per owner in flight: owner A queues three jobs
 * (the first blocks), then owner B one.  B's job runs second, before A's
 * other two, which waited in A and not in the shared queue. */
Test(pool, one_owner_cannot_starve_another)
{
    green_pool *pool = green_pool_new(1, 1);
    green_pool_owner a, b;
    green_pool_owner_init(&a);
    green_pool_owner_init(&b);
    gate g;
    gate_init(&g);
    atomic_int order = 0;
    tjob *a1 = tjob_new(1, &g, &order, NULL), *a2 = tjob_new(2, NULL, &order, NULL);
    tjob *a3 = tjob_new(3, NULL, &order, NULL), *b1 = tjob_new(4, NULL, &order, NULL);
    cr_assert(green_pool_submit(pool, &a, &a1->job, NULL));
    cr_assert(green_pool_submit(pool, &a, &a2->job, NULL));
    cr_assert(green_pool_submit(pool, &a, &a3->job, NULL));
    cr_assert(green_pool_submit(pool, &b, &b1->job, NULL));
    gate_open(&g, 1);
    wait_done(&a3->job);
    wait_done(&b1->job);
    cr_assert_eq(a1->rank, 0);
    cr_assert_eq(b1->rank, 1, "B's job ran at place %d, behind A's backlog", b1->rank);
    cr_assert_eq(a2->rank, 2);
    cr_assert_eq(a3->rank, 3);
    cr_assert_eq(a3->out, 6);
    green_job_release(&a1->job);
    green_job_release(&a2->job);
    green_job_release(&a3->job);
    green_job_release(&b1->job);
    green_pool_owner_drop(pool, &a);
    green_pool_owner_drop(pool, &b);
    green_pool_free(pool);
    gate_close(&g);
}

/* A job released before a thread took it is skipped and freed, never
 * run: nobody would read its answer. */
Test(pool, released_job_is_skipped)
{
    green_pool *pool = green_pool_new(1, 4);
    gate g;
    gate_init(&g);
    atomic_int order = 0, freed = 0;
    tjob *blocker = tjob_new(1, &g, &order, &freed), *late = tjob_new(2, NULL, &order, &freed);
    cr_assert(green_pool_submit(pool, NULL, &blocker->job, NULL));
    cr_assert(green_pool_submit(pool, NULL, &late->job, NULL));
    green_job_release(&late->job);
    cr_assert_eq(atomic_load(&freed), 0, "the pool still holds it");
    gate_open(&g, 1);
    wait_done(&blocker->job);
    while (atomic_load(&freed) < 1)
        usleep(1000);
    cr_assert_eq(atomic_load(&order), 1, "only the blocker ran");
    cr_assert(green_job_ran(&blocker->job));
    green_job_release(&blocker->job);
    cr_assert_eq(atomic_load(&freed), 2);
    green_pool_free(pool);
    gate_close(&g);
}

/* Dropping an owner ends its waiting jobs unrun (done, ran false) and
 * lets its running one finish without it. */
Test(pool, dropped_owner)
{
    green_pool *pool = green_pool_new(1, 1);
    green_pool_owner o;
    green_pool_owner_init(&o);
    gate g;
    gate_init(&g);
    atomic_int order = 0;
    tjob *running = tjob_new(1, &g, &order, NULL), *waiting = tjob_new(2, NULL, &order, NULL);
    cr_assert(green_pool_submit(pool, &o, &running->job, NULL));
    cr_assert(green_pool_submit(pool, &o, &waiting->job, NULL));
    green_pool_owner_drop(pool, &o);
    cr_assert(green_job_done(&waiting->job));
    cr_assert_not(green_job_ran(&waiting->job));
    cr_assert_not(green_job_done(&running->job));
    gate_open(&g, 1);
    wait_done(&running->job);
    cr_assert(green_job_ran(&running->job));
    cr_assert_eq(running->out, 2);
    green_job_release(&running->job);
    green_job_release(&waiting->job);
    green_pool_free(pool);
    gate_close(&g);
}

/* A process cancelled while its job blocks releases the job as it ends;
 * the job finishes later and wakes nobody (a freed process would be a
 * use after free, which the ASan build of this test catches). */
Test(pool, cancelled_process_leaves_its_job)
{
    green_sched *s = start(1);
    green_pool *pool = green_pool_new(1, 1);
    gate g;
    gate_init(&g);
    atomic_long asked = 0;
    atomic_int freed = 0;
    pproc *a = calloc(1, sizeof *a);
    cr_assert(a);
    a->pool = pool;
    green_pool_owner_init(&a->owner);
    a->gate = &g;
    a->in = 5;
    a->done = &asked;
    a->freed = &freed;
    green_spawn(s, &a->g, asker, pproc_free, a);
    while (!green_parked(&a->g))
        usleep(1000);
    green_cancel(&a->g);
    green_release(&a->g);
    green_sched_wait_all(s);
    cr_assert_eq(atomic_load(&freed), 0, "the job is still running");
    gate_open(&g, 1);
    while (atomic_load(&freed) == 0)
        usleep(1000);
    cr_assert_eq(atomic_load(&asked), 0, "the cancelled process never collected it");
    green_sched_stop(s);
    green_sched_free(s);
    green_pool_free(pool);
    gate_close(&g);
}

/* Freeing the pool does not wait for a thread stuck in a job; the job
 * finishes afterwards, its submitter may still read and release it, and
 * the pool's memory goes with the last of them (ASan checks it). */
Test(pool, freed_while_a_job_blocks)
{
    green_pool *pool = green_pool_new(2, 2);
    gate g;
    gate_init(&g);
    tjob *t = tjob_new(8, &g, NULL, NULL), *queued = tjob_new(9, &g, NULL, NULL);
    cr_assert(green_pool_submit(pool, NULL, &t->job, NULL));
    cr_assert(green_pool_submit(pool, NULL, &queued->job, NULL));
    green_pool_free(pool);
    gate_open(&g, 2);
    wait_done(&t->job);
    wait_done(&queued->job);
    /* Each job either ran (a thread had it before the stop) or ended unrun. */
    cr_assert(!green_job_ran(&t->job) || t->out == 16);
    cr_assert(!green_job_ran(&queued->job) || queued->out == 18);
    green_job_release(&t->job);
    green_job_release(&queued->job);
    gate_close(&g);
}

/* Bad configurations are refused; a job never submitted is the caller's
 * alone: not done, and freed by its release. */
Test(pool, refusals)
{
    cr_assert_null(green_pool_new(0, 1));
    cr_assert_null(green_pool_new(1, 0));
    atomic_int freed = 0;
    tjob *t = tjob_new(1, NULL, NULL, &freed);
    cr_assert_not(green_job_done(&t->job));
    cr_assert_not(green_job_ran(&t->job));
    green_job_release(&t->job);
    cr_assert_eq(atomic_load(&freed), 1);
}

/* The process-wide pool exists and is the same every time. */
Test(pool, default_pool)
{
    green_pool *p = green_pool_default();
    cr_assert(p);
    cr_assert_eq(green_pool_default(), p);
    green_pool_owner o;
    green_pool_owner_init(&o);
    tjob *t = tjob_new(30, NULL, NULL, NULL);
    cr_assert(green_pool_submit(p, &o, &t->job, NULL));
    wait_done(&t->job);
    cr_assert(green_job_ran(&t->job));
    cr_assert_eq(t->out, 60);
    green_job_release(&t->job);
    green_pool_owner_drop(p, &o);
}
