/*
 * test_limits.c - the bounds of green/ and the checked growth helper:
 * a channel's byte limit (back-pressure), the queue that only its own
 * receivers could read (freed at once), a stop while processes spawn in
 * a loop (ends), and io_grow_cap driven to the edges of size_t without
 * allocating anything.  Every test has a timeout: a hang is a failure.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "green.h"
#include "chan.h"
#include "io.h"

/* {====== items that say their size, or carry a channel end */

/* An item is its size, as an integer (never dereferenced). */
static size_t int_size(const void *item) { return (size_t)(uintptr_t)item; }

typedef struct end_item {
    green_chan *chan;
    bool receiver;              /* else a sender */
} end_item;

static atomic_int freed;

static void end_free(void *item)
{
    end_item *e = item;
    if (e->receiver)
        green_chan_drop_receiver(e->chan);
    else
        green_chan_drop_sender(e->chan);
    free(e);
    atomic_fetch_add(&freed, 1);
}

static size_t end_receivers(const void *item, const green_chan *c)
{
    const end_item *e = item;
    return e->receiver && e->chan == c;
}

/* A new end of c (the copy a serialize makes), inside an item. */
static end_item *end_of(green_chan *c, bool receiver)
{
    end_item *e = malloc(sizeof *e);
    cr_assert(e);
    e->chan = c;
    e->receiver = receiver;
    if (receiver)
        green_chan_add_receiver(c);
    else
        green_chan_add_sender(c);
    return e;
}

static green_chan *end_chan(void)
{
    green_chan *c = green_chan_new(0, end_free);
    cr_assert(c);
    green_chan_set_hooks(c, 0, NULL, end_receivers);
    atomic_store(&freed, 0);
    return c;
}

/* }====== */

/* {====== the byte limit */

Test(chan_limits, send_past_the_byte_limit_is_full)
{
    green_chan *c = green_chan_new(0, NULL);
    green_chan_set_hooks(c, 10, int_size, NULL);
    cr_assert_eq(green_chan_send(c, NULL, (void *)4), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(c, NULL, (void *)6), GREEN_CHAN_OK);     /* exactly 10 */
    cr_assert_eq(green_chan_bytes(c), 10);
    cr_assert_eq(green_chan_send(c, NULL, (void *)1), GREEN_CHAN_FULL);
    void *item;
    cr_assert_eq(green_chan_recv(c, NULL, &item), GREEN_CHAN_OK);
    cr_assert_eq((uintptr_t)item, 4);
    cr_assert_eq(green_chan_bytes(c), 6);
    cr_assert_eq(green_chan_send(c, NULL, (void *)4), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(c, NULL, (void *)1), GREEN_CHAN_FULL);
    cr_assert_eq(green_chan_len(c), 2);
    green_chan_drop_sender(c);
    green_chan_drop_receiver(c);
}

/* An item larger than the limit goes into an empty queue (else it could
 * never be sent), and only then. */
Test(chan_limits, empty_queue_takes_an_item_over_the_limit)
{
    green_chan *c = green_chan_new(0, NULL);
    green_chan_set_hooks(c, 10, int_size, NULL);
    cr_assert_eq(green_chan_send(c, NULL, (void *)1000), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(c, NULL, (void *)1), GREEN_CHAN_FULL);
    void *item;
    cr_assert_eq(green_chan_recv(c, NULL, &item), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_bytes(c), 0);
    cr_assert_eq(green_chan_send(c, NULL, (void *)SIZE_MAX), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(c, NULL, (void *)1), GREEN_CHAN_FULL);   /* no wrap */
    green_chan_drop_sender(c);
    green_chan_drop_receiver(c);
}

typedef struct pc {
    green_proc g;
    green_chan *chan;
    long n, done;
    atomic_long *progress;
} pc;

static void pc_free(green_proc *g) { free(g); }

/* Sends n items of 4 bytes, parking whenever the channel is full. */
static green_step producer(green_proc *g)
{
    pc *p = (pc *)g;
    while (p->done < p->n) {
        int r = green_chan_send(p->chan, g, (void *)4);
        if (r == GREEN_CHAN_FULL)
            return GREEN_BLOCK;
        cr_assert_eq(r, GREEN_CHAN_OK);
        p->done++;
    }
    green_chan_drop_sender(p->chan);
    return GREEN_EXIT;
}

/* Receives until closed; checks the bound on every receive. */
static green_step consumer(green_proc *g)
{
    pc *p = (pc *)g;
    for (;;) {
        cr_assert_leq(green_chan_bytes(p->chan), 12);
        void *item;
        int r = green_chan_recv(p->chan, g, &item);
        if (r == GREEN_CHAN_BLOCKED)
            return GREEN_BLOCK;
        if (r == GREEN_CHAN_CLOSED)
            break;
        p->done++;
        atomic_fetch_add(p->progress, 1);
        if (p->done % 7 == 0)
            return GREEN_YIELD;         /* let the producer fill it again */
    }
    green_chan_drop_receiver(p->chan);
    return GREEN_EXIT;
}

static void back_pressure(int workers)
{
    green_config cfg = { .workers = workers };
    green_sched *s = green_sched_new(&cfg);
    cr_assert(s && green_sched_start(s) == 0);
    green_chan *c = green_chan_new(0, NULL);
    green_chan_set_hooks(c, 12, int_size, NULL);
    atomic_long got = 0;
    pc *prod = calloc(1, sizeof *prod), *cons = calloc(1, sizeof *cons);
    cr_assert(prod && cons);
    *prod = (pc){ .chan = c, .n = 10000, .progress = &got };
    *cons = (pc){ .chan = c, .progress = &got };
    green_spawn(s, &prod->g, producer, pc_free, prod);
    green_spawn(s, &cons->g, consumer, pc_free, cons);
    green_sched_wait_all(s);
    cr_assert_eq(prod->done, 10000);
    cr_assert_eq(cons->done, 10000);
    green_release(&prod->g);
    green_release(&cons->g);
    green_sched_stop(s);
    green_sched_free(s);
}

Test(chan_limits, full_sender_parks_and_is_woken, .timeout = 20) { back_pressure(1); }
Test(chan_limits, full_sender_parks_and_is_woken_two_workers, .timeout = 20) { back_pressure(2); }

/* }====== */

/* {====== queues nobody can read */

/* The channel's only receiver travels in its own queue: when the last
 * one held outside goes, the queue is freed, and with it that receiver. */
Test(chan_limits, receiver_in_its_own_queue_is_freed)
{
    green_chan *c = end_chan();
    cr_assert_eq(green_chan_send(c, NULL, end_of(c, true)), GREEN_CHAN_OK);
    cr_assert_eq(green_chan_send(c, NULL, end_of(c, true)), GREEN_CHAN_OK);
    cr_assert_eq(atomic_load(&freed), 0);
    green_chan_drop_receiver(c);        /* the one held outside */
    cr_assert_eq(atomic_load(&freed), 2);
    /* No receiver is left: a send is refused, and the last sender frees
     * the channel (LeakSanitizer checks). */
    end_item *e = end_of(c, false);
    cr_assert_eq(green_chan_send(c, NULL, e), GREEN_CHAN_CLOSED);
    end_free(e);
    green_chan_drop_sender(c);
}

/* A receiver outside keeps the queue: it can still read it. */
Test(chan_limits, receiver_held_outside_keeps_the_queue)
{
    green_chan *c = end_chan();
    green_chan_add_receiver(c);         /* two held outside */
    cr_assert_eq(green_chan_send(c, NULL, end_of(c, true)), GREEN_CHAN_OK);
    green_chan_drop_receiver(c);
    cr_assert_eq(atomic_load(&freed), 0);
    cr_assert_eq(green_chan_len(c), 1);
    void *item;
    cr_assert_eq(green_chan_recv(c, NULL, &item), GREEN_CHAN_OK);
    end_free(item);                     /* its receiver goes */
    cr_assert_eq(atomic_load(&freed), 1);
    green_chan_drop_sender(c);
    green_chan_drop_receiver(c);
}

/* The last receiver held outside arrives in the queue itself (it was
 * copied, then its original closed): freed on arrival, and the send
 * still succeeded. */
Test(chan_limits, last_receiver_sent_into_its_own_queue_is_freed)
{
    green_chan *c = end_chan();
    end_item *e = end_of(c, true);
    green_chan_drop_receiver(c);        /* the copy is the only one now */
    cr_assert_eq(atomic_load(&freed), 0);
    cr_assert_eq(green_chan_send(c, NULL, e), GREEN_CHAN_OK);
    cr_assert_eq(atomic_load(&freed), 1);
    green_chan_drop_sender(c);
}

/* The sender in its own queue and no receiver: the queue goes when the
 * receiver does, which frees the channel. */
Test(chan_limits, sender_in_its_own_queue_is_freed)
{
    green_chan *c = end_chan();
    cr_assert_eq(green_chan_send(c, NULL, end_of(c, false)), GREEN_CHAN_OK);
    green_chan_drop_sender(c);
    cr_assert_eq(atomic_load(&freed), 0);
    green_chan_drop_receiver(c);
    cr_assert_eq(atomic_load(&freed), 1);
}

/* }====== */

/* {====== stopping while processes spawn */

typedef struct sp {
    green_proc g;
    atomic_long *spawned;
} sp;

static void sp_free(green_proc *g) { free(g); }

/* Spawns ten like itself per slice, forever, unless cancelled. */
static green_step spawner(green_proc *g)
{
    sp *p = (sp *)g;
    if (green_cancelled(g))
        return GREEN_EXIT;
    for (int i = 0; i < 10; i++) {
        sp *c = calloc(1, sizeof *c);
        if (!c)
            return GREEN_EXIT;
        c->spawned = p->spawned;
        green_spawn(g->sched, &c->g, spawner, sp_free, c);
        green_release(&c->g);
        atomic_fetch_add(p->spawned, 1);
    }
    return GREEN_YIELD;
}

static void storm(int workers)
{
    green_config cfg = { .workers = workers };
    green_sched *s = green_sched_new(&cfg);
    cr_assert(s && green_sched_start(s) == 0);
    atomic_long spawned = 0;
    sp *p = calloc(1, sizeof *p);
    cr_assert(p);
    p->spawned = &spawned;
    green_spawn(s, &p->g, spawner, sp_free, p);
    green_release(&p->g);
    while (atomic_load(&spawned) < 2000)
        usleep(1000);
    cr_assert(!green_sched_stopping(s));
    green_sched_stop(s);                /* the test's timeout bounds it */
    cr_assert(green_sched_stopping(s));
    cr_assert_eq(green_sched_live(s), 0);
    green_sched_free(s);
}

Test(sched_stop, ends_while_processes_spawn_one_worker, .timeout = 30) { storm(1); }
Test(sched_stop, ends_while_processes_spawn_two_workers, .timeout = 30) { storm(2); }

/* }====== */

/* {====== io_grow_cap */

Test(grow, doubles_from_first)
{
    cr_assert_eq(io_grow_cap(0, 1, 4, 8, SIZE_MAX), 4);
    cr_assert_eq(io_grow_cap(4, 5, 4, 8, SIZE_MAX), 8);
    cr_assert_eq(io_grow_cap(8, 100, 4, 8, SIZE_MAX), 128);
    cr_assert_eq(io_grow_cap(0, 1, 0, 8, SIZE_MAX), 1);     /* first 0: from 1 */
    cr_assert_eq(io_grow_cap(3, 3, 4, 8, SIZE_MAX), 3);     /* room already */
}

/* The u32 tables of the lunatic API: 2^31 entries doubled would wrap to
 * 0 in a u32; here they stop at the maximum, and past it there is none. */
Test(grow, stops_at_the_maximum_never_wraps)
{
    size_t max = UINT32_MAX - 1;
    cr_assert_eq(io_grow_cap((size_t)1 << 31, ((size_t)1 << 31) + 1, 4, 16, max), max);
    cr_assert_eq(io_grow_cap(max, max, 4, 16, max), max);
    cr_assert_eq(io_grow_cap(max, max + 1, 4, 16, max), 0);
    cr_assert_eq(io_grow_cap(0, SIZE_MAX, 4, 1, SIZE_MAX), SIZE_MAX);
}

/* cap * size never overflows size_t: the maximum shrinks to fit. */
Test(grow, byte_size_never_overflows)
{
    size_t size = 16, limit = SIZE_MAX / size;
    size_t c = io_grow_cap(limit / 2 + 1, limit / 2 + 2, 4, size, SIZE_MAX);
    cr_assert_eq(c, limit);
    cr_assert_leq(c, SIZE_MAX / size);
    cr_assert_eq(io_grow_cap(limit, limit + 1, 4, size, SIZE_MAX), 0);
    cr_assert_eq(io_grow_cap(0, 2, 4, SIZE_MAX, SIZE_MAX), 0);   /* one entry at most */
    cr_assert_eq(io_grow_cap(0, 1, 4, SIZE_MAX, SIZE_MAX), 1);
    cr_assert_eq(io_grow_cap(0, 1, 4, 0, SIZE_MAX), 0);          /* size 0: nothing */
}

/* }====== */
