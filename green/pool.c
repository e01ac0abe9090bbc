/*
 * pool.c - the blocking-work pool: a few plain threads that run the calls
 * a worker must never make (see green.h for the interface and its rules).
 *
 * One mutex guards everything: the shared FIFO of queued jobs, every
 * job's reference count, waiter and done flag, and the owners' lists.
 * Jobs are rare next to the scheduler's traffic (an fsync, a lookup, an
 * open of a FIFO) and each one is a system call or more, so one lock
 * costs nothing measurable; rejected: a lock per job, which makes the
 * owner bookkeeping (moved between the owner and the queue, promoted when
 * a sibling finishes) a lock-ordering puzzle for no gain.
 *
 * Life of a job: submit takes the pool's reference (refs 2) and puts the
 * job in the shared queue, or in its owner's waiting list when the owner
 * has per_owner jobs in flight already.  A thread pops it, runs `work`
 * without the lock - unless nobody waits for it any more (the submitter
 * released it: refs 1) or the pool is stopping - then, under the lock,
 * marks it done, wakes its waiter, promotes the owner's next waiting job
 * and drops the pool's reference.  The waiter is woken under the lock and
 * cleared under it by green_job_release, which the submitter calls before
 * its process can be freed: that is the whole argument that the pool
 * never touches a freed process.  The pool's own memory is held by a
 * reference per thread plus one for its user, so a thread still stuck in
 * a call when the pool is freed finds it intact when it comes back; and
 * each job holds one until it is freed, so a submitter may release its
 * job after the pool itself was freed.
 *
 * Threads are detached and started on demand (when more jobs are queued
 * than threads are idle), at most `threads`: an idle lvm has none.
 */
#include "green.h"

#include <stdlib.h>

struct green_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    green_job *head, *tail;     /* queued, waiting for a thread */
    uint32_t queued;
    int nthreads, idle, max_threads;
    uint32_t per_owner;
    int refs;                   /* the user's (until free) + one per thread */
    bool stopping;
};

/* {====== under the lock */

static void pool_unref(green_pool *pool, bool *last)
{
    *last = --pool->refs == 0;
}

/* Drop one reference of a submitted job; its last one frees it and lets
 * go of the pool (which then, on *last, the caller frees after unlocking). */
static void job_unref(green_pool *pool, green_job *j, bool *last)
{
    *last = false;
    if (--j->refs > 0)
        return;
    if (j->free)
        j->free(j);
    pool_unref(pool, last);
}

static void pool_destroy(green_pool *pool)
{
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->cond);
    free(pool);
}

static void queue_push(green_pool *pool, green_job *j)
{
    j->next = NULL;
    if (pool->tail)
        pool->tail->next = j;
    else
        pool->head = j;
    pool->tail = j;
    pool->queued++;
    pthread_cond_signal(&pool->cond);
}

static green_job *queue_pop(green_pool *pool)
{
    green_job *j = pool->head;
    if (j) {
        pool->head = j->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->queued--;
        j->next = NULL;
    }
    return j;
}

/* j enters the shared queue on behalf of its owner (if any). */
static void admit(green_pool *pool, green_job *j)
{
    green_pool_owner *o = j->owner;
    if (o) {
        j->owner_next = o->inflight;
        o->inflight = j;
        o->ninflight++;
    }
    queue_push(pool, j);
}

static void owner_unlink(green_pool_owner *o, green_job *j)
{
    for (green_job **pp = &o->inflight; *pp; pp = &(*pp)->owner_next) {
        if (*pp == j) {
            *pp = j->owner_next;
            o->ninflight--;
            break;
        }
    }
    j->owner_next = NULL;
}

/* The job is over, run or not: tell its waiter, let its owner's next job
 * in, drop the pool's reference. */
static void finish(green_pool *pool, green_job *j, bool ran)
{
    bool last;
    j->done = true;
    j->ran = ran;
    if (j->waiter)
        green_wake(j->waiter);
    green_pool_owner *o = j->owner;
    if (o) {
        owner_unlink(o, j);
        j->owner = NULL;
        if (o->wait_head && o->ninflight < pool->per_owner) {
            green_job *n = o->wait_head;
            o->wait_head = n->next;
            if (!o->wait_head)
                o->wait_tail = NULL;
            admit(pool, n);
        }
    }
    job_unref(pool, j, &last);      /* never the last: a thread or the
                                       owner's dropper holds the pool */
}

/* }====== */

/* {====== threads */

static void *pool_thread(void *arg)
{
    green_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->cond, &pool->lock);
            pool->idle--;
        }
        green_job *j = queue_pop(pool);
        if (!j)
            break;                      /* stopping, and nothing left */
        bool run = !pool->stopping && j->refs > 1;
        if (run) {
            pthread_mutex_unlock(&pool->lock);
            j->work(j);
            pthread_mutex_lock(&pool->lock);
        }
        finish(pool, j, run);
    }
    pool->nthreads--;
    bool last;
    pool_unref(pool, &last);
    pthread_mutex_unlock(&pool->lock);
    if (last)
        pool_destroy(pool);
    return NULL;
}

/* One more thread, detached (lock held).  False if it cannot start. */
static bool thread_start(green_pool *pool)
{
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&t, &attr, pool_thread, pool) == 0;
    pthread_attr_destroy(&attr);
    if (ok) {
        pool->nthreads++;
        pool->refs++;
    }
    return ok;
}

/* }====== */

/* {====== the interface */

green_pool *green_pool_new(int threads, int per_owner)
{
    if (threads < 1 || per_owner < 1)
        return NULL;
    green_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->cond, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return NULL;
    }
    pool->max_threads = threads;
    pool->per_owner = (uint32_t)per_owner;
    pool->refs = 1;
    return pool;
}

void green_pool_free(green_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cond);
    bool last;
    pool_unref(pool, &last);
    pthread_mutex_unlock(&pool->lock);
    if (last)
        pool_destroy(pool);
}

static green_pool *default_pool;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* At exit the idle threads end; one still inside a call is abandoned with
 * the rest of the program: joining it could hold lvm's exit for as long
 * as a dead DNS server takes to time out. */
static void default_stop(void)
{
    green_pool *pool = default_pool;
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
}

static void default_make(void)
{
    green_pool *pool = green_pool_new(GREEN_POOL_THREADS, GREEN_POOL_PER_OWNER);
    if (pool && atexit(default_stop) != 0) {
        green_pool_free(pool);
        pool = NULL;
    }
    default_pool = pool;
}

green_pool *green_pool_default(void)
{
    pthread_once(&default_once, default_make);
    return default_pool;
}

void green_job_init(green_job *j, void (*work)(green_job *), void (*free_fn)(green_job *))
{
    *j = (green_job){ .work = work, .free = free_fn, .refs = 1 };
}

bool green_pool_submit(green_pool *pool, green_pool_owner *o, green_job *j, green_proc *waiter)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->lock);
        return false;
    }
    bool admitted = !o || o->ninflight < pool->per_owner;
    if (admitted && pool->queued + 1 > (uint32_t)pool->idle && pool->nthreads < pool->max_threads)
        thread_start(pool);
    if (pool->nthreads == 0) {
        pthread_mutex_unlock(&pool->lock);
        return false;                   /* no thread could start */
    }
    j->pool = pool;
    j->owner = o;
    j->waiter = waiter;
    j->done = j->ran = false;
    j->refs++;                          /* the pool's */
    pool->refs++;                       /* the job's, until it is freed */
    if (admitted) {
        admit(pool, j);
    } else {
        j->next = NULL;
        if (o->wait_tail)
            o->wait_tail->next = j;
        else
            o->wait_head = j;
        o->wait_tail = j;
    }
    pthread_mutex_unlock(&pool->lock);
    return true;
}

bool green_job_done(green_job *j)
{
    if (!j->pool)
        return false;
    pthread_mutex_lock(&j->pool->lock);
    bool done = j->done;
    pthread_mutex_unlock(&j->pool->lock);
    return done;
}

bool green_job_ran(green_job *j)
{
    if (!j->pool)
        return false;
    pthread_mutex_lock(&j->pool->lock);
    bool ran = j->ran;
    pthread_mutex_unlock(&j->pool->lock);
    return ran;
}

void green_job_release(green_job *j)
{
    green_pool *pool = j->pool;
    if (!pool) {                        /* never submitted */
        if (j->free)
            j->free(j);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    j->waiter = NULL;
    bool last;
    job_unref(pool, j, &last);
    pthread_mutex_unlock(&pool->lock);
    if (last)
        pool_destroy(pool);
}

void green_pool_owner_init(green_pool_owner *o)
{
    *o = (green_pool_owner){ 0 };
}

void green_pool_owner_drop(green_pool *pool, green_pool_owner *o)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    green_job *j;
    while ((j = o->wait_head)) {
        o->wait_head = j->next;
        j->next = NULL;
        j->owner = NULL;
        finish(pool, j, false);
    }
    o->wait_tail = NULL;
    while ((j = o->inflight)) {
        o->inflight = j->owner_next;
        j->owner_next = NULL;
        j->owner = NULL;
    }
    o->ninflight = 0;
    pthread_mutex_unlock(&pool->lock);
}

/* }====== */
