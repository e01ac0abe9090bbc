/*
 * green.h - green processes and their scheduler: the interface the rest of
 * lvm uses (the wasm process glue in vm/process.c, the lunatic host API).
 * green/ knows nothing of WebAssembly.
 *
 * A green process is a step function plus state.  The scheduler calls
 * `run(p)` on some worker thread; run does one slice of work and says what
 * happened:
 *
 *   GREEN_YIELD  the slice's budget is spent: run me again later
 *   GREEN_BLOCK  I registered myself as a waiter somewhere (a channel, a
 *                timer, an fd); park me until someone calls green_wake(p)
 *   GREEN_EXIT   I am finished
 *
 * That is all a wasm process needs, because lvm's interpreter is stackless:
 * its state is a few words plus heap-allocated frames, so a slice that ends
 * simply returns to the worker's loop and a process that is not running owns
 * no native stack at all.  This is the central design decision of lvm's
 * processes.  The options, measured on the 2-core development machine
 * (bench/bench_green.c, bench/bench_procs.c, the design notes):
 *
 *   stackful, a private C stack per process: a 64 KiB mmap'd stack with a
 *     guard page costs ~6 us to create and ~1.9 us per page the process
 *     touches; at least one or two resident pages (4-8 KiB) per idle
 *     process, one kernel mapping each (a million would pass Linux's 65,530
 *     mapping limit); switching costs 8 ns with the assembly switch of
 *     ctx_x86_64.S (500 ns with glibc's swapcontext).
 *   stackful, stacks pooled and reused: no syscall per spawn, but still a
 *     resident stack per parked process.
 *   stackless (chosen): no stack at all while suspended; an idle wasm
 *     process costs ~1 KB of lvm's own memory in total (idle_proc_1m), a
 *     spawn+join ~0.3-1 us, a yield-to-yield switch 12-30 ns (it is a
 *     return to the worker loop and a deque push/pop, not a register swap).
 *
 * The assembly switch (ctx.h) therefore is not on any path of a wasm
 * process.  It is kept, tested and measured for the one case that needs a
 * native stack: host code that must suspend in the middle of C (an
 * embedder's blocking callback), which would borrow a pooled stack for the
 * duration of the call.  No host function of lvm's needs it: they are
 * written to be restartable instead (below).
 *
 * Blocking host calls are restartable: a host function that cannot finish
 * (receive on an empty channel) registers the process as a waiter and
 * returns "block"; when woken, the process re-executes the same call, which
 * now succeeds.  A spurious wake-up is therefore harmless.
 *
 * Thread-safety: green_spawn, green_wake, green_cancel and the channel
 * operations may be called from any thread.  green_self, green_sleep and
 * green_wait_fd only from inside a run function (on a worker).
 */
#ifndef LVM_GREEN_H
#define LVM_GREEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct green_sched green_sched;
typedef struct green_proc green_proc;
typedef struct green_waitq green_waitq;

typedef enum green_step { GREEN_YIELD, GREEN_BLOCK, GREEN_EXIT } green_step;

typedef green_step (*green_run_fn)(green_proc *p);
/* Called once when the last reference to a process goes away. */
typedef void (*green_free_fn)(green_proc *p);

/* A FIFO of parked processes, guarded by the owner's mutex (a channel's,
 * a process's join list...).  Each process waits on at most one queue. */
struct green_waitq {
    pthread_mutex_t *lock;
    green_proc *head, *tail;
};

struct green_proc {
    green_run_fn run;
    green_free_fn free;
    void *data;                 /* the owner's: e.g. the wasm process */
    green_sched *sched;
    _Atomic int state;          /* see sched.c: RUNNABLE, RUNNING, ... */
    _Atomic int refs;
    _Atomic bool cancelled;
    int exit_status;            /* set by the owner before GREEN_EXIT */
    /* Wait-queue links (owned by the queue's lock). */
    _Atomic(green_waitq *) wq;
    green_proc *wq_prev, *wq_next;
    /* The injection queue's link. */
    green_proc *inject_next;
    /* Processes that called green_join on this one. */
    pthread_mutex_t join_lock;
    green_waitq joiners;
    bool exited;
    /* The scheduler's list of live processes (under its lock), so that
     * green_sched_stop can cancel the ones still running or parked. */
    green_proc *live_prev, *live_next;
    /* Packing (see green_config.pack_after_ns): called on a process that
     * has stayed parked that long, to shrink what it holds while it
     * waits; NULL: never.  Set before green_spawn.  park_gen counts its
     * parks (the scheduler's, to tell a stale record from a fresh one). */
    void (*pack)(green_proc *p);
    _Atomic uint32_t park_gen;
};

typedef struct green_config {
    int workers;                /* 0: one per online CPU */
    /* A process parked this long (ns) without being woken is packed: its
     * pack function runs on a worker while the process is held as if it
     * ran (a wake-up meanwhile makes it run right after), so a waiting
     * process can give back memory it does not need while it waits and
     * take it again when it runs.  0: GREEN_PACK_AFTER_NS; UINT64_MAX:
     * never.  The time is the worker's clock at its last poll, which lags
     * by at most POLL_EVERY slices. */
    uint64_t pack_after_ns;
} green_config;

/* 1 ms: long against a message round trip (0.4 us) or a hand-off in a
 * busy server, so chatty processes are never packed, and short enough
 * that a burst of spawns that park keeps only the last hundred or so
 * unpacked (a spawn takes some us), whose memory is then still in the
 * cache when they are packed.  Packing and waking again cost one to three
 * microseconds (vm/store.c), at most 0.3% of the wait.  Measured with
 * 300,000 children that park (bench/lunatic, one worker): 8.6-10.0 us a
 * child at 1 ms against 10.4-11.3 us at 5 ms. */
#define GREEN_PACK_AFTER_NS 1000000ull

green_sched *green_sched_new(const green_config *cfg);
/* Start the workers (the calling thread is not one of them). */
int green_sched_start(green_sched *s);
/* Stop: cancel every process still alive (green_cancel: a parked one is
 * woken to exit, a running one exits at its next slice), wait until they
 * have all exited, then stop the workers; blocks until it is done.  So
 * every process ends through its own run function and is freed by the
 * usual references, never behind its owner's back. */
void green_sched_stop(green_sched *s);
/* True once green_sched_stop has begun: from then on a process spawned is
 * cancelled at once (it exits at its first slice, before running), so
 * stopping ends in bounded time even while processes spawn in a loop.
 * Spawners may check it to refuse early (lunatic does: a failed child). */
bool green_sched_stopping(const green_sched *s);
void green_sched_free(green_sched *s);
int green_sched_workers(const green_sched *s);
/* Number of processes spawned and not yet exited. */
long green_sched_live(const green_sched *s);
/* True when every worker is idle and nothing is queued: every live
 * process is parked.  A snapshot, for benchmarks and tests. */
bool green_sched_quiescent(green_sched *s);
/* Block the calling (non-worker) thread until no process is alive. */
void green_sched_wait_all(green_sched *s);

/* Initialize p (the caller embeds green_proc in its own struct or
 * allocates it) and make it runnable.  The scheduler holds a reference
 * until the process exits; the caller gets one more (release it with
 * green_release). */
void green_spawn(green_sched *s, green_proc *p, green_run_fn run, green_free_fn free_fn, void *data);
void green_retain(green_proc *p);
void green_release(green_proc *p);

/* Make a parked process runnable.  Safe on a process that is running (it
 * will run again instead of parking), runnable (no-op) or exited (no-op). */
void green_wake(green_proc *p);

/* Ask p to stop: sets its cancelled flag and wakes it; its run function
 * must check green_cancelled() and return GREEN_EXIT.  A blocked process
 * is thus reclaimed at once, a running one at its next slice. */
void green_cancel(green_proc *p);
static inline bool green_cancelled(const green_proc *p)
{
    return atomic_load_explicit(&p->cancelled, memory_order_relaxed);
}

/* True while p is parked (blocked, waiting for green_wake).  A snapshot,
 * for tests and diagnostics. */
bool green_parked(const green_proc *p);

/* The process running on this thread, or NULL off the workers. */
green_proc *green_self(void);

/* Inside a run function: arrange to be woken after ns nanoseconds, then
 * return GREEN_BLOCK. */
void green_sleep(green_proc *p, uint64_t ns);
/* Inside a run function: arrange to be woken when fd is ready (IO_READ /
 * IO_WRITE from io.h), then return GREEN_BLOCK.  Any number of processes
 * may wait on one fd, for either direction: when a direction is ready,
 * all its waiters are woken (and retry).  Returns -errno if the fd cannot
 * be watched. */
int green_wait_fd(green_proc *p, int fd, unsigned interest);
/* Forget fd before closing it (any worker may hold its registration);
 * processes still waiting on it are woken. */
void green_forget_fd(green_sched *s, int fd);

/* Join: if `target` has exited, returns true and *status_out is its exit
 * status.  Otherwise registers `self` as a joiner and returns false: the
 * caller returns GREEN_BLOCK and retries when woken. */
bool green_join(green_proc *self, green_proc *target, int *status_out);

/* Wait queues: push/remove under q->lock, which the caller holds. */
void green_waitq_init(green_waitq *q, pthread_mutex_t *lock);
void green_waitq_push(green_waitq *q, green_proc *p);
green_proc *green_waitq_pop(green_waitq *q);
/* Remove p from whatever queue it waits on (takes that queue's lock). */
void green_unwait(green_proc *p);
/* Wake every process on q (caller holds q->lock). */
void green_waitq_wake_all(green_waitq *q);

/* {====== the blocking-work pool (pool.c)
 *
 * Work that may block in the kernel however ready its fd looks (fsync, a
 * getaddrinfo, an open of a device) must not run on a worker: it runs as
 * a job on a small pool of plain threads while only the process that
 * asked for it parks, as libuv runs its file system calls.  A job is a
 * function and its state, embedded by the caller in a struct of its own:
 *
 *   j = my_job_new(...); green_job_init(&j->job, work, free);
 *   if (!green_pool_submit(pool, &owner, &j->job, self)) ... (not taken)
 *   return GREEN_BLOCK; ... when woken: green_job_done(&j->job)?
 *   then read the answer and green_job_release(&j->job).
 *
 * The pool and the submitter each hold a reference; the last to let go
 * calls `free`.  The pool never holds a reference to the waiting process:
 * green_job_release clears the job's waiter under the pool's lock, so a
 * process that is cancelled while its job runs (it releases the job as it
 * ends) is never woken after it is gone, and a job nobody waits for any
 * more is skipped if it has not started (`work` not called).
 *
 * Fairness: each job belongs to an owner (a process, or whatever the
 * caller counts as one).  At most `per_owner` jobs of one owner are in the
 * shared queue or running; the owner's other jobs wait in the owner, and
 * enter the queue one by one as its earlier ones finish.  So one process
 * that submits 500 slow lookups delays the others by at most per_owner
 * jobs, not 500.  An owner must be dropped (green_pool_owner_drop) before
 * its memory goes: its waiting jobs end unrun, its running ones forget it.
 *
 * Threads start on demand up to `threads` and are detached: a pool that is
 * freed while a thread is stuck in a call (a dead DNS server) does not
 * wait for it; the last thread out frees the pool's memory.
 * Thread-safety: every function may be called from any thread. */

typedef struct green_pool green_pool;
typedef struct green_job green_job;

typedef struct green_pool_owner {
    /* Under the pool's lock: */
    green_job *wait_head, *wait_tail;   /* over per_owner: not queued yet */
    green_job *inflight;                /* queued or running (list) */
    uint32_t ninflight;
} green_pool_owner;

struct green_job {
    void (*work)(green_job *j);         /* on a pool thread */
    void (*free)(green_job *j);         /* when both sides have let go;
                                           under the pool's lock: it must
                                           not call the pool */
    /* The pool's, under its lock: */
    green_pool *pool;
    green_pool_owner *owner;
    green_job *next;                    /* the queue or the owner's list */
    green_job *owner_next;              /* the owner's in-flight list */
    green_proc *waiter;
    int refs;
    bool done, ran;
};

/* A pool of at most `threads` threads (>= 1), at most per_owner (>= 1)
 * jobs of one owner in flight. */
green_pool *green_pool_new(int threads, int per_owner);
/* Stop: jobs not started end unrun (their waiters are woken), idle threads
 * end, a busy one ends after its job; returns at once.  Call it after the
 * owners are dropped; the jobs' submitters may still release them. */
void green_pool_free(green_pool *pool);
/* The pool of the whole OS process (GREEN_POOL_THREADS threads, at most
 * GREEN_POOL_PER_OWNER jobs per owner), made on first use and stopped at
 * exit.  NULL if it cannot be made. */
green_pool *green_pool_default(void);
#define GREEN_POOL_THREADS 4
#define GREEN_POOL_PER_OWNER 2

void green_job_init(green_job *j, void (*work)(green_job *), void (*free_fn)(green_job *));
/* Queue j for owner o (NULL: no per-owner limit), to wake `waiter` (may be
 * NULL) when it is done.  True: the pool holds a reference now.  False:
 * the pool is stopping or has no thread; j is untouched (release it). */
bool green_pool_submit(green_pool *pool, green_pool_owner *o, green_job *j, green_proc *waiter);
/* Has j finished (or ended unrun)?  Its results may be read once true. */
bool green_job_done(green_job *j);
/* Did `work` run (false: skipped, because the pool stopped or the owner
 * was dropped first)?  Meaningful once green_job_done. */
bool green_job_ran(green_job *j);
/* The submitter lets go of j: it is no longer waited for. */
void green_job_release(green_job *j);

void green_pool_owner_init(green_pool_owner *o);
/* The owner goes away: its jobs still waiting in it end unrun, the others
 * stop counting against it.  The owner may then be freed or reused. */
void green_pool_owner_drop(green_pool *pool, green_pool_owner *o);

/* }====== */

#endif
