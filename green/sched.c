/*
 * sched.c - the work-stealing scheduler of green processes.
 *
 * One worker pthread per core.  Each worker owns:
 *   - a Chase-Lev deque of runnable processes (deque.c): it pushes at the
 *     bottom; it and every thief take from the top, so a worker runs its
 *     own processes in FIFO order;
 *   - a "run next" slot: a process woken by the running one (a message
 *     reply) runs next on the same worker, while its data is hot in cache
 *     (Go's runnext);
 *   - a reactor (io/) it sleeps in when idle, which is also how others wake
 *     it, and which watches the fds assigned to it;
 *   - a timer heap for sleeps.
 * Work from outside the workers goes through an injection queue (a mutex
 * and a list: off the hot path).
 *
 * Why the owner takes FIFO from the top instead of Chase-Lev's LIFO take:
 * a process preempted by its reduction budget is pushed back, and with LIFO
 * it would be taken again at once - an endless loop would starve every
 * other process on its worker.  FIFO gives round-robin fairness; the
 * run-next slot gives back the LIFO locality where it matters (message
 * hand-off), and its use is capped (RUNNEXT_LIMIT) so that two processes
 * ping-ponging cannot starve the rest.  Rejected: a separate FIFO for
 * preempted processes beside a LIFO deque (two queues to balance and steal
 * from, for no measured gain).
 *
 * Process states (green_proc.state), changed only by CAS or by the thread
 * that owns the process in that state:
 *
 *   RUNNABLE --taken by a worker--> RUNNING --YIELD--> RUNNABLE (queued)
 *   RUNNING --BLOCK--> PARKED --green_wake--> RUNNABLE (queued)
 *   RUNNING --green_wake--> NOTIFIED --BLOCK/YIELD--> RUNNABLE (queued)
 *   RUNNING/NOTIFIED --EXIT--> DONE
 *
 * NOTIFIED closes the lost-wake-up window: a process registers as a
 * waiter, a sender wakes it before its slice has returned GREEN_BLOCK, and
 * the scheduler then re-queues it instead of parking it.
 *
 * Idle workers: a worker with nothing to run announces itself idle
 * (s->idle count and its own flag), checks every queue once more, then
 * sleeps in io_poll on its reactor until the next timer.  Whoever queues
 * work then reads the idle count and io_wakes one idle worker.  Both sides
 * use sequentially consistent operations, so either the waker sees the idle
 * flag or the idle worker sees the work (the classic Dekker pattern).  An
 * idle lvm uses no CPU.
 *
 * Memory orders: process hand-off between workers goes through the deque
 * (release on push, acquire on steal) or the injection mutex, which orders
 * everything the previous worker wrote to the process before the next one
 * runs it.
 */
#include "green.h"
#include "deque.h"
#include "../io/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { RUNNABLE, RUNNING, NOTIFIED, PARKED, DONE };

/* How many times in a row the run-next slot may win over the deque. */
#define RUNNEXT_LIMIT 16
/* A busy worker polls its reactor (without blocking) every this many
 * slices, so fd events and timers are not starved by busy processes. */
#define POLL_EVERY 61

/* fd waits.  The token given to the reactor is not the process but a slot
 * per fd number, in a two-level table whose chunks are never freed: a
 * reactor poll already in flight may hand back a token after its fd was
 * forgotten, and a type-stable slot makes that harmless (at worst a
 * spurious wake-up, which restartable host calls tolerate).  Go keeps its
 * pollDesc structures alive for the same reason.
 *
 * Each slot keeps a list of waiters per direction, each entry holding a
 * reference to its process, under the slot's lock.  The reactor is armed
 * with the union of the directions that have waiters; when it reports the
 * fd, the waiters of the ready directions are all woken (they retry their
 * syscall, and the losers register again) and the fd is re-armed for the
 * directions still waited on, since a one-shot registration covers both.
 * Why lists and not one waiter per fd: a socket shared by two processes
 * (lunatic moves TCP streams between processes, ABI 5.3) has a reader and
 * a writer, or two readers, at the same time.  With one slot the second
 * displaced the first without waking it, a lost wake-up; waking the
 * displaced one instead would make two readers of an idle socket wake
 * each other forever (a busy loop).  A list per direction has neither
 * problem, and costs one small array per fd number, kept for its next
 * waiters, and a lock held around the epoll_ctl.  Entries of
 * processes that have ended (woken by something else, then exited) are
 * pruned at the next registration, so they do not pin their memory. */
typedef struct fdwaiters {
    green_proc **procs;         /* each entry holds a reference */
    uint32_t n, cap;
} fdwaiters;

typedef struct fdslot {
    pthread_mutex_t lock;
    int fd;                     /* the number this slot stands for */
    fdwaiters dir[2];           /* [0]: IO_READ, [1]: IO_WRITE */
} fdslot;
#define FD_CHUNK 1024
#define FD_CHUNKS 1024          /* fds up to 1 Mi */
/* The most waiters one reactor event wakes; any others stay registered,
 * and the re-armed fd, still ready, reports them at the next poll. */
#define FD_WAKE_MAX 32

/* A process that parked on this worker (see packing, below). */
typedef struct park_record {
    green_proc *p;              /* holds a reference */
    uint32_t gen;               /* p->park_gen when it parked */
    uint64_t at;                /* the worker's clock then */
} park_record;

typedef struct worker {
    green_sched *sched;
    int index;
    pthread_t thread;
    green_deque deque;
    green_proc *runnext;
    int runnext_streak;
    io_reactor *reactor;
    io_timers *timers;
    _Atomic bool idle;
    uint64_t rng;               /* xorshift state for victim selection */
    unsigned ticks;
    uint64_t clock;             /* io_now_ns() at the last poll */
    /* Processes parked here, oldest first: a ring of `cap` records, `len`
     * of them from `head`. */
    park_record *parked;
    size_t cap, head, len;
} worker;

struct green_sched {
    int nworkers;
    uint64_t pack_after;        /* ns; UINT64_MAX: never */
    worker *workers;
    _Atomic bool stop;
    _Atomic int idle;
    _Atomic long live;
    /* injection queue */
    pthread_mutex_t inject_lock;
    green_proc *inject_head, *inject_tail;
    _Atomic long inject_len;
    /* green_sched_wait_all */
    pthread_mutex_t live_lock;  /* guards `all` and `stopping` too */
    pthread_cond_t live_cond;
    green_proc *all;            /* live processes (spawned, not exited) */
    /* green_sched_stop has begun: a process spawned from now on is
     * cancelled before it runs.  Set under live_lock, and read there by
     * green_spawn, so a process either is on `all` when stop cancels the
     * list or sees the flag: none slips between the two. */
    _Atomic bool stopping;
    _Atomic(fdslot *) fdslots[FD_CHUNKS];
};

static _Thread_local worker *tls_worker;
static _Thread_local green_proc *tls_self;

/* {====== references and wait queues */

void green_retain(green_proc *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void green_release(green_proc *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&p->join_lock);
        if (p->free)
            p->free(p);
    }
}

void green_waitq_init(green_waitq *q, pthread_mutex_t *lock)
{
    q->lock = lock;
    q->head = q->tail = NULL;
}

void green_waitq_push(green_waitq *q, green_proc *p)
{
    if (atomic_load_explicit(&p->wq, memory_order_relaxed) == q)
        return;                         /* already waiting here */
    p->wq_next = NULL;
    p->wq_prev = q->tail;
    if (q->tail)
        q->tail->wq_next = p;
    else
        q->head = p;
    q->tail = p;
    atomic_store_explicit(&p->wq, q, memory_order_release);
}

static void waitq_unlink(green_waitq *q, green_proc *p)
{
    if (p->wq_prev)
        p->wq_prev->wq_next = p->wq_next;
    else
        q->head = p->wq_next;
    if (p->wq_next)
        p->wq_next->wq_prev = p->wq_prev;
    else
        q->tail = p->wq_prev;
    p->wq_prev = p->wq_next = NULL;
    atomic_store_explicit(&p->wq, NULL, memory_order_release);
}

green_proc *green_waitq_pop(green_waitq *q)
{
    green_proc *p = q->head;
    if (p)
        waitq_unlink(q, p);
    return p;
}

void green_waitq_wake_all(green_waitq *q)
{
    green_proc *p;
    while ((p = green_waitq_pop(q)))
        green_wake(p);
}

void green_unwait(green_proc *p)
{
    green_waitq *q = atomic_load_explicit(&p->wq, memory_order_acquire);
    if (!q)
        return;
    pthread_mutex_lock(q->lock);
    if (atomic_load_explicit(&p->wq, memory_order_relaxed) == q)
        waitq_unlink(q, p);
    pthread_mutex_unlock(q->lock);
}

/* }====== */

/* {====== queues */

static void inject(green_sched *s, green_proc *p)
{
    p->inject_next = NULL;
    pthread_mutex_lock(&s->inject_lock);
    if (s->inject_tail)
        s->inject_tail->inject_next = p;
    else
        s->inject_head = p;
    s->inject_tail = p;
    atomic_fetch_add(&s->inject_len, 1);
    pthread_mutex_unlock(&s->inject_lock);
}

static green_proc *take_injected(green_sched *s)
{
    if (atomic_load_explicit(&s->inject_len, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&s->inject_lock);
    green_proc *p = s->inject_head;
    if (p) {
        s->inject_head = p->inject_next;
        if (!s->inject_head)
            s->inject_tail = NULL;
        atomic_fetch_sub(&s->inject_len, 1);
    }
    pthread_mutex_unlock(&s->inject_lock);
    return p;
}

/* If some worker is idle, wake one (not `self`). */
static void notify_idle(green_sched *s, worker *self)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&s->idle) == 0)
        return;
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        if (w != self && atomic_load(&w->idle)) {
            io_wake(w->reactor);
            return;
        }
    }
}

static void push_local(worker *w, green_proc *p)
{
    if (!green_deque_push(&w->deque, p))
        inject(w->sched, p);            /* deque could not grow: no memory */
}

/* Queue a RUNNABLE process: on this worker's run-next slot when called on a
 * worker of the same scheduler, else through the injection queue. */
static void enqueue(green_sched *s, green_proc *p)
{
    worker *w = tls_worker;
    if (w && w->sched == s) {
        green_proc *old = w->runnext;
        w->runnext = p;
        if (old)
            push_local(w, old);
        if (old || atomic_load_explicit(&s->idle, memory_order_relaxed))
            notify_idle(s, w);
    } else {
        inject(s, p);
        notify_idle(s, NULL);
    }
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Steal from the other workers, starting at a random victim. */
static green_proc *steal(worker *w)
{
    green_sched *s = w->sched;
    if (s->nworkers < 2)
        return NULL;
    unsigned start = (unsigned)(xorshift(&w->rng) % (uint64_t)s->nworkers);
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < s->nworkers; k++) {
            worker *v = &s->workers[(start + (unsigned)k) % (unsigned)s->nworkers];
            if (v == w)
                continue;
            void *item;
            green_deque_status st = green_deque_steal(&v->deque, &item);
            if (st == GREEN_DEQUE_ITEM)
                return item;
        }
    }
    return NULL;
}

static green_proc *next_proc(worker *w)
{
    void *item;
    if (w->runnext && w->runnext_streak < RUNNEXT_LIMIT) {
        green_proc *p = w->runnext;
        w->runnext = NULL;
        w->runnext_streak++;
        return p;
    }
    w->runnext_streak = 0;
    /* Now and then look at the injection queue first, so it cannot starve
     * behind a worker that always has local work (Go does this every 61). */
    if (w->ticks % POLL_EVERY == 0) {
        green_proc *p = take_injected(w->sched);
        if (p)
            return p;
    }
    if (green_deque_steal(&w->deque, &item) == GREEN_DEQUE_ITEM)
        return item;
    if (w->runnext) {
        green_proc *p = w->runnext;
        w->runnext = NULL;
        return p;
    }
    green_proc *p = take_injected(w->sched);
    if (p)
        return p;
    return steal(w);
}

/* }====== */

/* {====== running */

static void finish(worker *w, green_proc *p)
{
    green_sched *s = w->sched;
    green_unwait(p);
    pthread_mutex_lock(&p->join_lock);
    p->exited = true;
    green_waitq_wake_all(&p->joiners);
    pthread_mutex_unlock(&p->join_lock);
    atomic_store(&p->state, DONE);
    pthread_mutex_lock(&s->live_lock);
    if (p->live_prev)
        p->live_prev->live_next = p->live_next;
    else
        s->all = p->live_next;
    if (p->live_next)
        p->live_next->live_prev = p->live_prev;
    bool last = atomic_fetch_sub(&s->live, 1) == 1;
    if (last)
        pthread_cond_broadcast(&s->live_cond);
    pthread_mutex_unlock(&s->live_lock);
    green_release(p);                   /* the scheduler's reference */
}

/* {====== packing
 *
 * A process that stays parked for pack_after ns is packed: p->pack runs
 * on the worker it parked on.  Each park appends a record to that
 * worker's ring (a reference and the process's park count); as the
 * worker polls, it takes the records that are old enough, oldest first.
 * A record whose process has been woken since (it is not PARKED, or has
 * parked again: another record stands for that) is dropped.  Otherwise
 * the worker claims the process with the same CAS a waker would make,
 * PARKED -> RUNNING, so for everyone else it is simply running: a
 * green_wake meanwhile makes it NOTIFIED, and it is queued again as the
 * pack ends, exactly as after a slice that blocked.  The state machine
 * thus gains no state, and no lock guards a parked process.
 * Rejected: packing on every park (a round trip would pay it: twice
 * 0.5-1 us on 0.4 us), and a count of parked processes as the trigger
 * (whoever parked first would stay unpacked forever, and the chatty ones
 * that came later would pay). */

static void record_park(worker *w, green_proc *p, uint32_t gen)
{
    if (w->len == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        park_record *r = malloc(cap * sizeof *r);
        if (!r)
            return;                     /* not packed: only bigger */
        for (size_t i = 0; i < w->len; i++)
            r[i] = w->parked[(w->head + i) % w->cap];
        free(w->parked);
        w->parked = r;
        w->cap = cap;
        w->head = 0;
    }
    green_retain(p);
    w->parked[(w->head + w->len) % w->cap] = (park_record){ p, gen, w->clock };
    w->len++;
}

/* The end of a slice that blocked, or of a pack: park p (RUNNING ->
 * PARKED), or queue it here again if it was woken meanwhile (NOTIFIED);
 * returns whether it was queued. */
static bool settle(worker *w, green_proc *p)
{
    int expect = RUNNING;
    if (atomic_compare_exchange_strong(&p->state, &expect, PARKED))
        return false;
    atomic_store(&p->state, RUNNABLE);
    push_local(w, p);
    return true;
}

/* A slice blocked: record the park for packing, then settle. */
static void park(worker *w, green_proc *p)
{
    if (p->pack && w->sched->pack_after != UINT64_MAX) {
        /* Before the CAS that publishes PARKED: a packer that sees
         * PARKED sees this count. */
        uint32_t gen = atomic_fetch_add_explicit(&p->park_gen, 1, memory_order_relaxed) + 1;
        record_park(w, p, gen);
    }
    settle(w, p);
}

/* Pack what has been parked long enough by `now`; returns the ns until
 * the next record is due (-1: none).  *queued is set if a process woken
 * during its pack was queued here: the worker must not sleep then. */
static int64_t pack_due(worker *w, uint64_t now, bool *queued)
{
    uint64_t after = w->sched->pack_after;
    while (w->len) {
        park_record r = w->parked[w->head];
        if (r.at + after > now)
            return (int64_t)(r.at + after - now);
        w->head = (w->head + 1) % w->cap;
        w->len--;
        green_proc *p = r.p;
        int expect = PARKED;
        if (atomic_load_explicit(&p->park_gen, memory_order_relaxed) == r.gen &&
            atomic_compare_exchange_strong(&p->state, &expect, RUNNING)) {
            tls_self = p;
            p->pack(p);
            tls_self = NULL;
            if (settle(w, p))           /* woken meanwhile */
                *queued = true;
        }
        green_release(p);
    }
    return -1;
}

static void drop_park_records(worker *w)
{
    while (w->len) {
        green_release(w->parked[w->head].p);
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    free(w->parked);
    w->parked = NULL;
    w->cap = 0;
}

/* }====== */

static void run(worker *w, green_proc *p)
{
    atomic_store_explicit(&p->state, RUNNING, memory_order_relaxed);
    tls_self = p;
    green_step r = p->run(p);
    tls_self = NULL;
    w->ticks++;
    switch (r) {
    case GREEN_YIELD:
        atomic_store(&p->state, RUNNABLE);
        push_local(w, p);
        break;
    case GREEN_BLOCK:
        park(w, p);
        break;
    case GREEN_EXIT:
        finish(w, p);
        break;
    }
}

static void fd_ready(green_sched *s, fdslot *slot, unsigned ready);

/* Wake what the reactor and the timers report.  timeout_ns < 0: sleep
 * until something happens. */
static void poll_events(worker *w, int64_t timeout_ns)
{
    io_event ev[IO_POLL_MAX];
    uint64_t now = io_now_ns();
    w->clock = now;
    bool queued = false;
    int64_t due = pack_due(w, now, &queued);
    if (queued)
        timeout_ns = 0;                 /* it runs next: no sleeping */
    else if (timeout_ns < 0 && due >= 0)
        timeout_ns = due;               /* sleep no longer than the next pack */
    int64_t t = io_timers_timeout_ns(w->timers, now);
    if (timeout_ns != 0 && t >= 0 && (timeout_ns < 0 || t < timeout_ns))
        timeout_ns = t;
    if (t == 0)
        timeout_ns = 0;
    int n = io_poll(w->reactor, ev, IO_POLL_MAX, timeout_ns);
    for (int i = 0; i < n; i++)
        fd_ready(w->sched, ev[i].token, ev[i].ready);
    void *token;
    now = io_now_ns();
    while (io_timers_pop(w->timers, now, &token)) {
        green_proc *p = token;
        green_wake(p);
        green_release(p);               /* the timer's reference */
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    green_sched *s = w->sched;
    tls_worker = w;
    w->clock = io_now_ns();
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        green_proc *p = next_proc(w);
        if (p) {
            run(w, p);
            if (w->ticks % POLL_EVERY == 0)
                poll_events(w, 0);
            continue;
        }
        /* Idle: announce, look once more, then sleep in the reactor. */
        atomic_store(&w->idle, true);
        atomic_fetch_add(&s->idle, 1);
        atomic_thread_fence(memory_order_seq_cst);
        p = take_injected(s);
        if (!p)
            p = steal(w);
        if (p) {
            atomic_fetch_sub(&s->idle, 1);
            atomic_store(&w->idle, false);
            run(w, p);
            continue;
        }
        if (!atomic_load(&s->stop))
            poll_events(w, -1);
        atomic_fetch_sub(&s->idle, 1);
        atomic_store(&w->idle, false);
        /* Timer and fd wake-ups landed in runnext/deque of this worker. */
    }
    drop_park_records(w);
    tls_worker = NULL;
    return NULL;
}

/* }====== */

/* {====== the public face */

green_sched *green_sched_new(const green_config *cfg)
{
    green_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    int n = cfg && cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    s->nworkers = n;
    s->pack_after = cfg && cfg->pack_after_ns ? cfg->pack_after_ns : GREEN_PACK_AFTER_NS;
    s->workers = calloc((size_t)n, sizeof *s->workers);
    if (!s->workers) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->inject_lock, NULL);
    pthread_mutex_init(&s->live_lock, NULL);
    pthread_cond_init(&s->live_cond, NULL);
    for (int i = 0; i < n; i++) {
        worker *w = &s->workers[i];
        w->sched = s;
        w->index = i;
        w->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        if (!green_deque_init(&w->deque, 256) || io_reactor_new(&w->reactor) != 0 ||
            !(w->timers = io_timers_new())) {
            green_sched_free(s);
            return NULL;
        }
    }
    return s;
}

int green_sched_start(green_sched *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        int err = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
        if (err)
            return -err;
    }
    return 0;
}

int green_sched_workers(const green_sched *s) { return s->nworkers; }

bool green_sched_quiescent(green_sched *s)
{
    return atomic_load(&s->idle) == s->nworkers && atomic_load(&s->inject_len) == 0;
}
long green_sched_live(const green_sched *s) { return atomic_load(&s->live); }

void green_sched_wait_all(green_sched *s)
{
    pthread_mutex_lock(&s->live_lock);
    while (atomic_load(&s->live) > 0)
        pthread_cond_wait(&s->live_cond, &s->live_lock);
    pthread_mutex_unlock(&s->live_lock);
}

bool green_sched_stopping(const green_sched *s)
{
    return atomic_load_explicit(&s->stopping, memory_order_relaxed);
}

void green_sched_stop(green_sched *s)
{
    /* Cancel what is still alive and let it run to its end.  A process
     * that is cancelled in the middle of its slice may still spawn before
     * the slice ends: such a child is born cancelled (green_spawn reads
     * `stopping`), so it exits at its first slice without running, and
     * the wait below ends once every process has run one more slice at
     * most - however fast they spawn.  The loop only re-cancels, in case a
     * process spawned between two passes; started is false for a
     * scheduler whose workers never started (nothing could run). */
    bool started = s->nworkers > 0 && s->workers[0].thread;
    pthread_mutex_lock(&s->live_lock);
    atomic_store(&s->stopping, true);
    pthread_mutex_unlock(&s->live_lock);
    while (started) {
        pthread_mutex_lock(&s->live_lock);
        for (green_proc *p = s->all; p; p = p->live_next)
            green_cancel(p);
        bool none = s->all == NULL;
        if (!none)
            pthread_cond_wait(&s->live_cond, &s->live_lock);
        pthread_mutex_unlock(&s->live_lock);
        if (none)
            break;
    }
    atomic_store(&s->stop, true);
    for (int i = 0; i < s->nworkers; i++)
        io_wake(s->workers[i].reactor);
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].thread)
            pthread_join(s->workers[i].thread, NULL);
}

/* Release whatever the queues, timers and reactors still reference. */
static void drain(green_sched *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        void *item;
        if (w->runnext) {
            green_release(w->runnext);
            w->runnext = NULL;
        }
        while (w->deque.array && green_deque_steal(&w->deque, &item) != GREEN_DEQUE_EMPTY)
            if (item)
                green_release(item);
        while (w->timers && io_timers_pop(w->timers, UINT64_MAX, &item))
            green_release(item);
    }
    green_proc *p;
    while ((p = take_injected(s)))
        green_release(p);
}

void green_sched_free(green_sched *s)
{
    if (!s)
        return;
    drain(s);
    for (int i = 0; i < FD_CHUNKS; i++) {
        fdslot *chunk = atomic_load(&s->fdslots[i]);
        for (int k = 0; chunk && k < FD_CHUNK; k++) {
            for (int d = 0; d < 2; d++) {
                fdwaiters *q = &chunk[k].dir[d];
                for (uint32_t j = 0; j < q->n; j++)
                    green_release(q->procs[j]);
                free(q->procs);
            }
            pthread_mutex_destroy(&chunk[k].lock);
        }
    }
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        if (w->deque.array)
            green_deque_destroy(&w->deque);
        if (w->reactor)
            io_reactor_free(w->reactor);
        if (w->timers)
            io_timers_free(w->timers);
    }
    for (int i = 0; i < FD_CHUNKS; i++) {
        fdslot *chunk = atomic_load(&s->fdslots[i]);
        free(chunk);                    /* emptied above */
    }
    pthread_mutex_destroy(&s->inject_lock);
    pthread_mutex_destroy(&s->live_lock);
    pthread_cond_destroy(&s->live_cond);
    free(s->workers);
    free(s);
}

void green_spawn(green_sched *s, green_proc *p, green_run_fn run_fn, green_free_fn free_fn, void *data)
{
    p->run = run_fn;
    p->free = free_fn;
    p->data = data;
    p->sched = s;
    atomic_init(&p->state, RUNNABLE);
    atomic_init(&p->refs, 2);           /* the scheduler's and the caller's */
    atomic_init(&p->cancelled, false);
    atomic_init(&p->wq, NULL);
    atomic_init(&p->park_gen, 0);
    p->wq_prev = p->wq_next = NULL;
    p->exit_status = 0;
    p->exited = false;
    pthread_mutex_init(&p->join_lock, NULL);
    green_waitq_init(&p->joiners, &p->join_lock);
    pthread_mutex_lock(&s->live_lock);
    if (atomic_load_explicit(&s->stopping, memory_order_relaxed))
        atomic_store(&p->cancelled, true);      /* see green_sched_stop */
    p->live_prev = NULL;
    p->live_next = s->all;
    if (s->all)
        s->all->live_prev = p;
    s->all = p;
    atomic_fetch_add(&s->live, 1);
    pthread_mutex_unlock(&s->live_lock);
    enqueue(s, p);
}

void green_wake(green_proc *p)
{
    int st = atomic_load(&p->state);
    for (;;) {
        if (st == PARKED) {
            if (atomic_compare_exchange_weak(&p->state, &st, RUNNABLE)) {
                enqueue(p->sched, p);
                return;
            }
        } else if (st == RUNNING) {
            if (atomic_compare_exchange_weak(&p->state, &st, NOTIFIED))
                return;
        } else {
            return;                     /* RUNNABLE, NOTIFIED or DONE */
        }
    }
}

void green_cancel(green_proc *p)
{
    atomic_store(&p->cancelled, true);
    green_unwait(p);
    green_wake(p);
}

green_proc *green_self(void) { return tls_self; }

bool green_parked(const green_proc *p) { return atomic_load(&p->state) == PARKED; }

void green_sleep(green_proc *p, uint64_t ns)
{
    worker *w = tls_worker;
    if (!w) {
        fprintf(stderr, "lvm: green_sleep called off the workers\n");
        abort();
    }
    green_retain(p);
    uint64_t now = io_now_ns();
    uint64_t deadline = now + ns < now ? UINT64_MAX : now + ns;
    io_timers_add(w->timers, deadline, p);
}

/* fds are watched by a fixed worker (fd mod workers), so a process that
 * moves between workers never leaves a registration behind on another
 * reactor, and green_forget_fd knows where to cancel. */
static io_reactor *fd_reactor(green_sched *s, int fd)
{
    return s->workers[(unsigned)fd % (unsigned)s->nworkers].reactor;
}

static fdslot *fd_slot(green_sched *s, int fd)
{
    if (fd < 0 || fd >= FD_CHUNK * FD_CHUNKS)
        return NULL;
    _Atomic(fdslot *) *chunkp = &s->fdslots[fd / FD_CHUNK];
    fdslot *chunk = atomic_load_explicit(chunkp, memory_order_acquire);
    if (!chunk) {
        fdslot *fresh = calloc(FD_CHUNK, sizeof *fresh);
        if (!fresh)
            return NULL;
        for (int k = 0; k < FD_CHUNK; k++) {
            pthread_mutex_init(&fresh[k].lock, NULL);
            fresh[k].fd = fd / FD_CHUNK * FD_CHUNK + k;
        }
        if (atomic_compare_exchange_strong(chunkp, &chunk, fresh)) {
            chunk = fresh;
        } else {                        /* another thread won; chunk is its */
            for (int k = 0; k < FD_CHUNK; k++)
                pthread_mutex_destroy(&fresh[k].lock);
            free(fresh);
        }
    }
    return &chunk[fd % FD_CHUNK];
}

/* The directions that have waiters (slot locked). */
static unsigned slot_interest(const fdslot *slot)
{
    return (slot->dir[0].n ? IO_READ : 0u) | (slot->dir[1].n ? IO_WRITE : 0u);
}

/* Add p to q unless it is there already (slot locked).  Entries of
 * processes that have ended are dropped on the way. */
static bool waiters_add(fdwaiters *q, green_proc *p)
{
    bool present = false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < q->n; i++) {
        green_proc *x = q->procs[i];
        if (x != p && atomic_load(&x->state) == DONE) {
            green_release(x);
            continue;
        }
        present |= x == p;
        q->procs[k++] = x;
    }
    q->n = k;
    if (present)
        return true;
    if (q->n == q->cap) {
        size_t cap = io_grow_cap(q->cap, (size_t)q->n + 1, 2, sizeof *q->procs, UINT32_MAX);
        green_proc **v = cap ? realloc(q->procs, cap * sizeof *v) : NULL;
        if (!v)
            return false;
        q->procs = v;
        q->cap = (uint32_t)cap;
    }
    green_retain(p);
    q->procs[q->n++] = p;
    return true;
}

/* Take p out of q, if it is there (slot locked). */
static void waiters_remove(fdwaiters *q, green_proc *p)
{
    for (uint32_t i = 0; i < q->n; i++) {
        if (q->procs[i] == p) {
            q->procs[i] = q->procs[--q->n];
            green_release(p);
            return;
        }
    }
}

/* Move up to max waiters of the directions in `dirs` out of the slot into
 * out[] (slot locked); the references go with them. */
static int waiters_take(fdslot *slot, unsigned dirs, green_proc **out, int max)
{
    int n = 0;
    for (int d = 0; d < 2; d++) {
        fdwaiters *q = &slot->dir[d];
        if (dirs & (d ? IO_WRITE : IO_READ))
            while (q->n && n < max)
                out[n++] = q->procs[--q->n];
    }
    return n;
}

static void wake_and_release(green_proc **v, int n)
{
    for (int i = 0; i < n; i++) {
        green_wake(v[i]);
        green_release(v[i]);
    }
}

/* The reactor reported the slot's fd (on the worker whose reactor it is):
 * wake the waiters of the ready directions, re-arm for the others.  The
 * event may be stale (its fd forgotten since, even reused): then at worst
 * someone wakes for nothing. */
static void fd_ready(green_sched *s, fdslot *slot, unsigned ready)
{
    green_proc *woken[FD_WAKE_MAX];
    pthread_mutex_lock(&slot->lock);
    int n = waiters_take(slot, ready, woken, FD_WAKE_MAX);
    unsigned rest = slot_interest(slot);
    if (rest && io_wait_fd(fd_reactor(s, slot->fd), slot->fd, rest, slot) != 0) {
        /* Cannot re-arm (the fd was closed under us): wake them all so
         * that they retry and see the error themselves. */
        wake_and_release(woken, n);
        n = waiters_take(slot, IO_READ | IO_WRITE, woken, FD_WAKE_MAX);
    }
    pthread_mutex_unlock(&slot->lock);
    wake_and_release(woken, n);
}

int green_wait_fd(green_proc *p, int fd, unsigned interest)
{
    if (interest == 0 || (interest & ~(unsigned)(IO_READ | IO_WRITE)) != 0)
        return -EINVAL;
    fdslot *slot = fd_slot(p->sched, fd);
    if (!slot)
        return fd < 0 ? -EBADF : -ENOMEM;
    pthread_mutex_lock(&slot->lock);
    int err = 0;
    for (int d = 0; d < 2 && !err; d++)
        if ((interest & (d ? IO_WRITE : IO_READ)) && !waiters_add(&slot->dir[d], p))
            err = -ENOMEM;
    if (!err)
        err = io_wait_fd(fd_reactor(p->sched, fd), fd, slot_interest(slot), slot);
    if (err)
        for (int d = 0; d < 2; d++)
            if (interest & (d ? IO_WRITE : IO_READ))
                waiters_remove(&slot->dir[d], p);
    pthread_mutex_unlock(&slot->lock);
    return err;
}

/* The fd is about to be closed: nobody may stay registered on it.  Its
 * waiters (if any: normally the closer holds the last reference, and no
 * one waits) are woken to retry rather than hang. */
void green_forget_fd(green_sched *s, int fd)
{
    fdslot *slot = fd_slot(s, fd);
    if (!slot)
        return;
    green_proc *woken[FD_WAKE_MAX];
    int n;
    pthread_mutex_lock(&slot->lock);
    io_cancel_fd(fd_reactor(s, fd), fd);
    do {
        n = waiters_take(slot, IO_READ | IO_WRITE, woken, FD_WAKE_MAX);
        wake_and_release(woken, n);
    } while (n == FD_WAKE_MAX);
    pthread_mutex_unlock(&slot->lock);
}

bool green_join(green_proc *self, green_proc *target, int *status_out)
{
    pthread_mutex_lock(&target->join_lock);
    bool done = target->exited;
    if (done)
        *status_out = target->exit_status;
    else
        green_waitq_push(&target->joiners, self);
    pthread_mutex_unlock(&target->join_lock);
    return done;
}

/* }====== */
