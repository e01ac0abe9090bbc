/*
 * test_sched.c - the scheduler and channels (green/), with C processes
 * written as step functions, and wasm processes (vm/process.c) for
 * preemption.  Every test has a timeout: a hang is a failure.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "green.h"
#include "chan.h"
#include "io.h"
#include "process.h"
#include "exec.h"
#include "wat.h"

/* {====== C processes */

typedef struct cproc {
    green_proc g;
    int state;                  /* the step function's program counter */
    long a, b;                  /* its variables */
    void *ptr;
    atomic_long *counter;
} cproc;

static void cproc_free(green_proc *g) { free(g); }

static cproc *cspawn(green_sched *s, green_run_fn fn, atomic_long *counter, void *ptr)
{
    cproc *c = calloc(1, sizeof *c);
    cr_assert(c);
    c->counter = counter;
    c->ptr = ptr;
    green_spawn(s, &c->g, fn, cproc_free, c);
    return c;
}

static green_sched *start(int workers)
{
    green_config cfg = { .workers = workers };
    green_sched *s = green_sched_new(&cfg);
    cr_assert(s);
    cr_assert_eq(green_sched_start(s), 0);
    return s;
}

static void finish(green_sched *s)
{
    green_sched_wait_all(s);
    green_sched_stop(s);
    green_sched_free(s);
}

/* }====== */

/* Yields 100 times, then counts itself done. */
static green_step yielder(green_proc *g)
{
    cproc *c = (cproc *)g;
    if (c->a++ < 100)
        return GREEN_YIELD;
    atomic_fetch_add(c->counter, 1);
    return GREEN_EXIT;
}

static void many_yielders(int workers)
{
    green_sched *s = start(workers);
    atomic_long done = 0;
    for (int i = 0; i < 10000; i++)
        green_release(&cspawn(s, yielder, &done, NULL)->g);
    finish(s);
    cr_assert_eq(done, 10000);
}

Test(sched, ten_thousand_processes_yield_100_times_one_worker, .timeout = 30) { many_yielders(1); }
Test(sched, ten_thousand_processes_yield_100_times_two_workers, .timeout = 30) { many_yielders(2); }

/* Sleeps a->ms, then appends its id (b) to the shared order array. */
static atomic_int order_next;
static int order[3];
static green_step sleeper(green_proc *g)
{
    cproc *c = (cproc *)g;
    if (c->state++ == 0) {
        green_sleep(g, (uint64_t)c->a * 1000000u);
        return GREEN_BLOCK;
    }
    order[atomic_fetch_add(&order_next, 1)] = (int)c->b;
    return GREEN_EXIT;
}

Test(sched, sleeps_end_in_deadline_order, .timeout = 10)
{
    green_sched *s = start(1);
    long ms[3] = { 60, 20, 40 };
    for (int i = 0; i < 3; i++) {
        cproc *c = calloc(1, sizeof *c);
        c->a = ms[i];
        c->b = i;
        green_spawn(s, &c->g, sleeper, cproc_free, c);
        green_release(&c->g);
    }
    finish(s);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(order[2], 0);
}

/* {====== channels */

/* Receives from channel ptr until closed; a = count, b = sum. */
static atomic_long recv_sum;
static green_step receiver(green_proc *g)
{
    cproc *c = (cproc *)g;
    green_chan *ch = c->ptr;
    for (;;) {
        void *item;
        int r = green_chan_recv(ch, g, &item);
        if (r == GREEN_CHAN_BLOCKED)
            return GREEN_BLOCK;
        if (r == GREEN_CHAN_CLOSED) {
            atomic_fetch_add(&recv_sum, c->b);
            atomic_fetch_add(c->counter, c->a);
            green_chan_drop_receiver(ch);
            return GREEN_EXIT;
        }
        c->a++;
        c->b += (long)(intptr_t)item;
        if (c->a % 7 == 0)
            return GREEN_YIELD;         /* interleave with the others */
    }
}

/* Sends 1..1000 on channel ptr, then drops its sender handle. */
static green_step sender(green_proc *g)
{
    cproc *c = (cproc *)g;
    green_chan *ch = c->ptr;
    while (c->a < 1000) {
        int r = green_chan_send(ch, g, (void *)(intptr_t)(c->a + 1));
        if (r == GREEN_CHAN_BLOCKED)
            return GREEN_BLOCK;
        cr_assert_eq(r, GREEN_CHAN_OK);
        c->a++;
    }
    green_chan_drop_sender(ch);
    return GREEN_EXIT;
}

static void many_to_many(int workers, size_t bound)
{
    green_sched *s = start(workers);
    green_chan *ch = green_chan_new(bound, NULL);
    cr_assert(ch);
    atomic_long received = 0;
    recv_sum = 0;
    /* 4 senders and 4 receivers: the channel starts with one handle of
     * each, so add three more of each. */
    for (int i = 0; i < 3; i++) {
        green_chan_add_sender(ch);
        green_chan_add_receiver(ch);
    }
    for (int i = 0; i < 4; i++) {
        green_release(&cspawn(s, receiver, &received, ch)->g);
        green_release(&cspawn(s, sender, NULL, ch)->g);
    }
    finish(s);
    cr_assert_eq(received, 4000);
    cr_assert_eq(recv_sum, 4 * 1000 * 1001 / 2);
}

Test(chan, many_senders_many_receivers_unbounded, .timeout = 20) { many_to_many(2, 0); }
Test(chan, many_senders_many_receivers_bounded, .timeout = 20) { many_to_many(2, 3); }
Test(chan, many_senders_many_receivers_one_worker, .timeout = 20) { many_to_many(1, 1); }

Test(chan, bounded_send_blocks_when_full)
{
    green_chan *ch = green_chan_new(2, NULL);
    cr_assert_eq(green_chan_send(ch, NULL, (void *)1), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(ch, NULL, (void *)2), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(ch, NULL, (void *)3), GREEN_CHAN_BLOCKED);
    cr_assert_eq(green_chan_len(ch), 2);
    void *item;
    cr_assert_eq(green_chan_recv(ch, NULL, &item), GREEN_CHAN_OK);
    cr_assert_eq(item, (void *)1);
    cr_assert_eq(green_chan_send(ch, NULL, (void *)3), GREEN_CHAN_OK);
    green_chan_drop_sender(ch);
    green_chan_drop_receiver(ch);
}

static int freed_items;
static void count_free(void *item) { (void)item; freed_items++; }

Test(chan, close_semantics)
{
    green_chan *ch = green_chan_new(0, count_free);
    void *item;
    cr_assert_eq(green_chan_recv(ch, NULL, &item), GREEN_CHAN_BLOCKED);
    cr_assert_eq(green_chan_send(ch, NULL, (void *)7), GREEN_CHAN_OK);
    green_chan_drop_sender(ch);
    /* Senders gone: what is queued can still be received, then closed. */
    cr_assert_eq(green_chan_recv(ch, NULL, &item), GREEN_CHAN_OK);
    cr_assert_eq(item, (void *)7);
    cr_assert_eq(green_chan_recv(ch, NULL, &item), GREEN_CHAN_CLOSED);
    green_chan_drop_receiver(ch);

    ch = green_chan_new(0, count_free);
    green_chan_drop_receiver(ch);
    cr_assert_eq(green_chan_send(ch, NULL, (void *)1), GREEN_CHAN_CLOSED);
    green_chan_drop_sender(ch);

    freed_items = 0;
    ch = green_chan_new(0, count_free);
    green_chan_send(ch, NULL, (void *)1);
    green_chan_send(ch, NULL, (void *)2);
    green_chan_drop_sender(ch);
    green_chan_drop_receiver(ch);       /* frees the two queued items */
    cr_assert_eq(freed_items, 2);
}

/* Waits forever on an empty channel (whose sender is kept alive). */
static green_step forever_receiver(green_proc *g)
{
    cproc *c = (cproc *)g;
    if (green_cancelled(g)) {
        atomic_fetch_add(c->counter, 1);
        return GREEN_EXIT;
    }
    void *item;
    int r = green_chan_recv(c->ptr, g, &item);
    cr_assert_eq(r, GREEN_CHAN_BLOCKED);
    return GREEN_BLOCK;
}

Test(sched, cancel_reclaims_a_blocked_process, .timeout = 10)
{
    green_sched *s = start(2);
    green_chan *ch = green_chan_new(0, NULL);
    atomic_long cancelled = 0;
    cproc *c = cspawn(s, forever_receiver, &cancelled, ch);
    while (!green_parked(&c->g))
        usleep(1000);
    green_cancel(&c->g);
    green_release(&c->g);
    finish(s);
    cr_assert_eq(cancelled, 1);
    green_chan_drop_sender(ch);
    green_chan_drop_receiver(ch);
}

/* }====== */

/* {====== fd waits */

/* The fd travels in ptr, which is set before the process can run. */
static int fd_of(cproc *c)
{
    return (int)(intptr_t)c->ptr;
}

/* Reads one byte from its fd (non-blocking), waiting for IO_READ. */
static green_step fd_reader(green_proc *g)
{
    cproc *c = (cproc *)g;
    char b;
    if (recv(fd_of(c), &b, 1, MSG_DONTWAIT) == 1) {
        atomic_fetch_add(c->counter, 1);
        return GREEN_EXIT;
    }
    cr_assert_eq(green_wait_fd(g, fd_of(c), IO_READ), 0);
    return GREEN_BLOCK;
}

/* Fills its fd's send buffer, then waits for IO_WRITE and writes once more. */
static green_step fd_writer(green_proc *g)
{
    cproc *c = (cproc *)g;
    static const char chunk[4096];
    if (c->b == 0) {
        while (send(fd_of(c), chunk, sizeof chunk, MSG_DONTWAIT) > 0)
            ;
        c->b = 1;
    } else if (send(fd_of(c), chunk, 1, MSG_DONTWAIT) == 1) {
        atomic_fetch_add(c->counter, 1);
        return GREEN_EXIT;
    }
    cr_assert_eq(green_wait_fd(g, fd_of(c), IO_WRITE), 0);
    return GREEN_BLOCK;
}

static cproc *fd_proc(green_sched *s, green_run_fn fn, int fd, atomic_long *counter)
{
    return cspawn(s, fn, counter, (void *)(intptr_t)fd);
}

static void wait_parked(cproc *c)
{
    while (!green_parked(&c->g))
        usleep(1000);
}

/* Two processes read one socket: data for both wakes both (one waiter
 * per fd used to displace the other, which then slept forever). */
Test(sched, two_readers_of_one_fd_both_wake, .timeout = 10)
{
    green_sched *s = start(2);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    atomic_long done = 0;
    cproc *r1 = fd_proc(s, fd_reader, sv[0], &done);
    wait_parked(r1);
    cproc *r2 = fd_proc(s, fd_reader, sv[0], &done);
    wait_parked(r2);
    cr_assert_eq(write(sv[1], "xy", 2), 2);
    green_release(&r1->g);
    green_release(&r2->g);
    finish(s);
    cr_assert_eq(done, 2);
    close(sv[0]);
    close(sv[1]);
}

/* A reader and a writer of one socket: each direction wakes its own
 * waiter, and the fd stays armed for the other. */
Test(sched, reader_and_writer_of_one_fd, .timeout = 10)
{
    green_sched *s = start(1);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    atomic_long read_done = 0, write_done = 0;
    cproc *w = fd_proc(s, fd_writer, sv[0], &write_done);
    wait_parked(w);
    cproc *r = fd_proc(s, fd_reader, sv[0], &read_done);
    wait_parked(r);
    cr_assert_eq(write(sv[1], "x", 1), 1);      /* the reader's turn */
    while (atomic_load(&read_done) == 0)
        usleep(1000);
    cr_assert(green_parked(&w->g));
    char buf[65536];
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;                                       /* then the writer's */
    green_release(&r->g);
    green_release(&w->g);
    finish(s);
    cr_assert_eq(write_done, 1);
    close(sv[0]);
    close(sv[1]);
}

/* Forgetting an fd wakes whoever still waits on it. */
Test(sched, forget_fd_wakes_its_waiters, .timeout = 10)
{
    green_sched *s = start(1);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    atomic_long done = 0;
    cproc *r = fd_proc(s, fd_reader, sv[0], &done);
    wait_parked(r);
    green_forget_fd(s, sv[0]);
    cr_assert_eq(write(sv[1], "x", 1), 1);      /* its retry finds this */
    green_release(&r->g);
    finish(s);
    cr_assert_eq(done, 1);
    close(sv[0]);
    close(sv[1]);
}

/* }====== */

/* {====== wasm processes */

/* A closure-style spawn: the entry is a table slot, the argument the
 * context, and the parent joins the child. */
typedef struct joiner {
    green_proc g;
    lvm_process *child;
    int status;
} joiner;

static green_step join_child(green_proc *g)
{
    joiner *j = (joiner *)g;
    if (!green_join(g, &j->child->g, &j->status))
        return GREEN_BLOCK;
    return GREEN_EXIT;
}

static void no_free(green_proc *g) { (void)g; }



static const char *procs_wat =
    "(module\n"
    " (func (export \"spin\") (loop $l (br $l)))\n"
    " (func (export \"count\") (param $n i32) (result i32) (local $i i32)\n"
    "  (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $n)))\n"
    "   (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))\n"
    "  (local.get $i)))";

/* An endless loop on the only worker does not keep others from running. */
Test(sched, endless_loop_is_preempted_on_one_worker, .timeout = 20)
{
    green_sched *s = start(1);
    lvm_module *m = load_wat(procs_wat);
    lvm_diag d;
    lvm_process *spin = lvm_process_spawn(s, m, NULL, "spin", NULL, NULL, &d);
    cr_assert(spin, "%s", d.message);
    lvm_process *counters[50];
    for (int i = 0; i < 50; i++) {
        lvm_val n = { .i64 = 100000 };
        counters[i] = lvm_process_spawn(s, m, NULL, "count", &n, NULL, &d);
        cr_assert(counters[i], "%s", d.message);
    }
    /* All counters finish although `spin` never does. */
    while (green_sched_live(s) > 1)
        usleep(1000);
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(counters[i]->result, LVM_OK);
        cr_assert_eq(counters[i]->thread->stack[0].i32, 100000);
        lvm_process_release(counters[i]);
    }
    /* Cancel a running process: it stops at its next slice. */
    green_cancel(&spin->g);
    finish(s);
    cr_assert_eq(spin->result, LVM_ERR_TRAP_EXIT);
    lvm_process_release(spin);
    lvm_module_release(m);
}

Test(sched, spawn_from_a_table_slot_and_join, .timeout = 20)
{
    green_sched *s = start(2);
    lvm_module *m = load_wat(
        "(module (table 2 funcref) (elem (i32.const 1) $square)\n"
        " (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))\n"
        " (func $bad (export \"bad\") (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0))))");
    lvm_process_config cfg = { .entry_is_table_slot = true, .table_slot = 1 };
    lvm_val arg = { .i64 = 12 };
    lvm_diag d;
    lvm_process *ok = lvm_process_spawn(s, m, NULL, NULL, &arg, &cfg, &d);
    cr_assert(ok, "%s", d.message);
    lvm_process *bad = lvm_process_spawn(s, m, NULL, "bad", &arg, NULL, &d);
    cr_assert(bad, "%s", d.message);
    cfg.table_slot = 0;                 /* an empty slot */
    cr_assert_null(lvm_process_spawn(s, m, NULL, NULL, &arg, &cfg, &d));
    cr_assert_eq(d.err, LVM_ERR_TRAP_UNDEFINED_ELEM);

    joiner j1 = { .child = ok, .status = -1 }, j2 = { .child = bad, .status = -1 };
    green_spawn(s, &j1.g, join_child, no_free, &j1);
    green_spawn(s, &j2.g, join_child, no_free, &j2);
    finish(s);
    cr_assert_eq(j1.status, 0);
    cr_assert_eq(ok->thread->stack[0].i32, 144);
    cr_assert_eq(j2.status, 1, "a trap is a failed exit");
    cr_assert_eq(bad->result, LVM_ERR_TRAP_DIV_ZERO);
    lvm_process_release(ok);
    lvm_process_release(bad);
    lvm_module_release(m);
}

/* }====== */

/* env.wait: park on the channel in the host data (it never closes). */
static lvm_err host_wait_forever(lvm_hostcall *call, lvm_val *v)
{
    (void)v;
    void *item;
    int r = green_chan_recv(call->data, green_self(), &item);
    return r == GREEN_CHAN_BLOCKED ? LVM_ERR_BLOCK : LVM_OK;
}

/* Stopping the scheduler cancels whatever is still alive: parked wasm
 * processes end through their own run functions (and under ASan, nothing
 * leaks). */
Test(sched, stop_cancels_parked_and_running_processes, .timeout = 20)
{
    green_sched *s = start(2);
    lvm_module *m = load_wat("(module (import \"env\" \"wait\" (func $w))\n"
                             " (func (export \"run\") (call $w))\n"
                             " (func (export \"spin\") (loop $l (br $l))))");
    green_chan *ch = green_chan_new(0, NULL);
    lvm_store *hs = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(hs, ":", host_wait_forever, ch);
    lvm_linker_define(l, "env", "wait", x);
    lvm_process *p[51];
    lvm_diag d;
    for (int i = 0; i < 50; i++) {
        p[i] = lvm_process_spawn(s, m, l, "run", NULL, NULL, &d);
        cr_assert(p[i], "%s", d.message);
    }
    p[50] = lvm_process_spawn(s, m, l, "spin", NULL, NULL, &d);
    cr_assert(p[50], "%s", d.message);
    usleep(20000);                      /* let most of them park (not required) */
    green_sched_stop(s);
    cr_assert_eq(green_sched_live(s), 0);
    for (int i = 0; i < 51; i++) {
        cr_assert_eq(p[i]->result, LVM_ERR_TRAP_EXIT, "process %d", i);
        lvm_process_release(p[i]);
    }
    green_sched_free(s);
    green_chan_drop_sender(ch);
    green_chan_drop_receiver(ch);
    lvm_linker_free(l);
    lvm_store_free(hs);
    lvm_module_release(m);
}

/* {====== packing (green_config.pack_after_ns) */

typedef struct pproc {
    green_proc g;
    int state;
    atomic_int busy;            /* 1 while its run or pack function runs */
    atomic_long packs, runs;
    atomic_long *done;
} pproc;

static void pproc_free(green_proc *g) { free(g); }

/* Neither function runs while the other does: the pack claims the
 * process as a slice would. */
static void enter(pproc *c)
{
    cr_assert_eq(atomic_exchange(&c->busy, 1), 0, "run and pack overlap");
}

static void leave(pproc *c) { atomic_store(&c->busy, 0); }

static void count_pack(green_proc *g)
{
    pproc *c = (pproc *)g;
    enter(c);
    atomic_fetch_add(&c->packs, 1);
    leave(c);
}

static pproc *pspawn(green_sched *s, green_run_fn fn, atomic_long *done)
{
    pproc *c = calloc(1, sizeof *c);
    cr_assert(c);
    c->done = done;
    c->g.pack = count_pack;
    green_spawn(s, &c->g, fn, pproc_free, c);
    return c;
}

static green_sched *start_packing(int workers, uint64_t after_ns)
{
    green_config cfg = { .workers = workers, .pack_after_ns = after_ns };
    green_sched *s = green_sched_new(&cfg);
    cr_assert(s);
    cr_assert_eq(green_sched_start(s), 0);
    return s;
}

/* Sleeps 30 ms, then checks it was packed once meanwhile. */
static green_step long_sleeper(green_proc *g)
{
    pproc *c = (pproc *)g;
    enter(c);
    if (c->state++ == 0) {
        green_sleep(g, 30000000);
        leave(c);
        return GREEN_BLOCK;
    }
    cr_assert_eq(atomic_load(&c->packs), 1, "packed once while it slept");
    atomic_fetch_add(c->done, 1);
    leave(c);
    return GREEN_EXIT;
}

/* Parked 5 ms at most before it is woken: never packed at 1 s. */
static green_step short_sleeper(green_proc *g)
{
    pproc *c = (pproc *)g;
    enter(c);
    if (c->state++ < 5) {
        green_sleep(g, 1000000);
        leave(c);
        return GREEN_BLOCK;
    }
    cr_assert_eq(atomic_load(&c->packs), 0);
    atomic_fetch_add(c->done, 1);
    leave(c);
    return GREEN_EXIT;
}

Test(sched, a_long_park_is_packed_once, .timeout = 10)
{
    green_sched *s = start_packing(1, 2000000);         /* 2 ms */
    atomic_long done = 0;
    green_release(&pspawn(s, long_sleeper, &done)->g);
    finish(s);
    cr_assert_eq(done, 1);
    s = start_packing(1, 1000000000);                   /* 1 s */
    green_release(&pspawn(s, short_sleeper, &done)->g);
    finish(s);
    cr_assert_eq(done, 2);
}

/* Blocks without waiting for anything: only green_wake from the test's
 * thread makes it run again, 200 times. */
static green_step woken(green_proc *g)
{
    pproc *c = (pproc *)g;
    enter(c);
    long n = atomic_fetch_add(&c->runs, 1) + 1;
    leave(c);
    if (n < 200)
        return GREEN_BLOCK;
    atomic_fetch_add(c->done, 1);
    return GREEN_EXIT;
}

/* Wakes racing with packs on two workers (every park is due at once):
 * no run overlaps a pack, no wake-up is lost, and packs happen. */
Test(sched, packs_race_with_wakes, .timeout = 30)
{
    green_sched *s = start_packing(2, 1);
    atomic_long done = 0;
    enum { N = 64 };
    pproc *p[N];
    for (int i = 0; i < N; i++)
        p[i] = pspawn(s, woken, &done);
    for (int round = 0; atomic_load(&done) < N; round++) {
        for (int i = 0; i < N; i++)
            green_wake(&p[i]->g);
        if (round % 4 == 0)
            usleep(50);                 /* let some stay parked a while */
    }
    long packs = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(atomic_load(&p[i]->runs), 200);
        packs += atomic_load(&p[i]->packs);
        green_release(&p[i]->g);
    }
    finish(s);
    cr_assert_gt(packs, 0, "some parks lasted until a poll");
}

/* A pack that takes 20 ms, during which the test wakes the process. */
static atomic_int in_slow_pack;

static void slow_pack(green_proc *g)
{
    count_pack(g);
    atomic_store(&in_slow_pack, 1);
    usleep(20000);
}

static green_step block_once(green_proc *g)
{
    pproc *c = (pproc *)g;
    if (c->state++ == 0)
        return GREEN_BLOCK;
    atomic_fetch_add(c->done, 1);
    return GREEN_EXIT;
}

/* Woken while it is being packed by a worker that has nothing else to
 * do: it runs right after the pack (the worker must not go to sleep with
 * it queued). */
Test(sched, woken_during_its_pack_it_runs, .timeout = 10)
{
    green_sched *s = start_packing(1, 1000000);         /* 1 ms */
    atomic_long done = 0;
    pproc *c = calloc(1, sizeof *c);
    cr_assert(c);
    c->done = &done;
    c->g.pack = slow_pack;
    green_spawn(s, &c->g, block_once, pproc_free, c);
    while (!atomic_load(&in_slow_pack))
        usleep(100);
    green_wake(&c->g);
    while (atomic_load(&done) == 0)
        usleep(100);                    /* a lost wake-up hangs here */
    cr_assert_eq(atomic_load(&c->packs), 1);
    green_release(&c->g);
    finish(s);
}

/* A process parked and packed, then cancelled by the stop: it ends, and
 * its record's reference is dropped (the ASan build checks the leak). */
static green_step park_forever(green_proc *g)
{
    pproc *c = (pproc *)g;
    if (green_cancelled(g)) {
        atomic_fetch_add(c->done, 1);
        return GREEN_EXIT;
    }
    return GREEN_BLOCK;
}

Test(sched, stop_ends_packed_processes, .timeout = 10)
{
    green_sched *s = start_packing(2, 1000000);         /* 1 ms */
    atomic_long done = 0;
    pproc *p[16];
    for (int i = 0; i < 16; i++)
        p[i] = pspawn(s, park_forever, &done);
    usleep(30000);
    green_sched_stop(s);
    cr_assert_eq(done, 16);
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(atomic_load(&p[i]->packs), 1, "process %d", i);
        green_release(&p[i]->g);
    }
    green_sched_free(s);
}

/* }====== */
