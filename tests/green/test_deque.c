/*
 * test_deque.c - the Chase-Lev deque (green/deque.h): single-thread
 * semantics first, then an owner racing with thieves, where a bitmap
 * proves that every item is taken exactly once.
 *
 * Items are small integers cast to pointers in the single-thread tests
 * (the deque never dereferences them), including 0 = NULL, which the
 * interface allows; in the multi-thread tests they point to payloads.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "deque.h"

#define ITEM(i) ((void *)(uintptr_t)(i))
#define INDEX(p) ((uintptr_t)(p))

/* {====== one thread */

Test(green_deque, take_is_lifo, .timeout = 10)
{
    green_deque q;
    void *item;
    cr_assert(green_deque_init(&q, 16));
    for (int i = 0; i < 10; i++)
        cr_assert(green_deque_push(&q, ITEM(i)));
    cr_assert_eq(green_deque_size(&q), 10);
    for (int i = 9; i >= 0; i--) {
        cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_ITEM);
        cr_assert_eq(INDEX(item), (uintptr_t)i);
    }
    cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_EMPTY);
    green_deque_destroy(&q);
}

Test(green_deque, steal_is_fifo, .timeout = 10)
{
    green_deque q;
    void *item;
    cr_assert(green_deque_init(&q, 16));
    for (int i = 0; i < 10; i++)
        green_deque_push(&q, ITEM(i));
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_ITEM);
        cr_assert_eq(INDEX(item), (uintptr_t)i);
    }
    cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_EMPTY);
    green_deque_destroy(&q);
}

Test(green_deque, empty_deque_reports_empty_and_stays_usable, .timeout = 10)
{
    green_deque q;
    void *item = ITEM(77);
    cr_assert(green_deque_init(&q, 0));
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_EMPTY);
        cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_EMPTY);
        cr_assert_eq(green_deque_size(&q), 0);
    }
    cr_assert_eq(INDEX(item), 77, "item_out written on EMPTY");
    /* An empty take must leave bottom where it was. */
    green_deque_push(&q, ITEM(5));
    cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_ITEM);
    cr_assert_eq(INDEX(item), 5);
    green_deque_destroy(&q);
}

Test(green_deque, both_ends_share_the_items, .timeout = 10)
{
    green_deque q;
    void *item;
    cr_assert(green_deque_init(&q, 4));
    for (int i = 0; i < 6; i++)
        green_deque_push(&q, ITEM(i));
    cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_ITEM);
    cr_assert_eq(INDEX(item), 0);
    cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_ITEM);
    cr_assert_eq(INDEX(item), 5);
    cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_ITEM);
    cr_assert_eq(INDEX(item), 1);
    green_deque_push(&q, ITEM(6));
    int expect[] = { 6, 4, 3, 2 };
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_ITEM);
        cr_assert_eq(INDEX(item), (uintptr_t)expect[i]);
    }
    cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_EMPTY);
    green_deque_destroy(&q);
}

/* Growth copies the live window [top, bottom), which has wrapped around
 * the circular array when the owner has been stealing from the front. */
Test(green_deque, grows_past_initial_capacity, .timeout = 10)
{
    enum { N = 100000 };
    green_deque q;
    void *item;
    cr_assert(green_deque_init(&q, 2));
    /* Move top and bottom away from 0 so the window wraps. */
    for (int i = 0; i < 3; i++) {
        green_deque_push(&q, ITEM(i));
        green_deque_steal(&q, &item);
    }
    for (int i = 0; i < N; i++)
        cr_assert(green_deque_push(&q, ITEM(i)));
    cr_assert_eq(green_deque_size(&q), N);
    /* half from the front, in order... */
    for (int i = 0; i < N / 2; i++) {
        cr_assert_eq(green_deque_steal(&q, &item), GREEN_DEQUE_ITEM);
        cr_assert_eq(INDEX(item), (uintptr_t)i);
    }
    /* ...the rest from the back, in reverse */
    for (int i = N - 1; i >= N / 2; i--) {
        cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_ITEM);
        cr_assert_eq(INDEX(item), (uintptr_t)i);
    }
    cr_assert_eq(green_deque_take(&q, &item), GREEN_DEQUE_EMPTY);
    green_deque_destroy(&q);
}

/* }====== */

/* {====== owner against thieves */

/* Each item is a pointer to a slot of `payload`, which the owner fills
 * with plain (non-atomic) stores just before pushing it, and which the
 * taker reads with plain loads.  That is how a scheduler hands over a
 * process struct, and it gives ThreadSanitizer (make tsan) something to
 * check: without the deque's release/acquire pairs those accesses race.
 * Each item also gets one bit in a bitmap; whoever gets an item sets its
 * bit, and finding it already set means the item was handed out twice. */
typedef struct {
    long index;
    long check;                 /* index * 3 + 1 */
} payload;

typedef struct {
    green_deque q;
    payload *items;
    _Atomic uint64_t *seen;     /* bitmap */
    atomic_long taken;          /* items claimed by anyone */
    atomic_long stolen;         /* ...of which by thieves */
    atomic_long duplicates;
    atomic_bool done;           /* owner has pushed everything */
    long total;
} arena;

static void claim(arena *a, void *item)
{
    payload *p = item;
    uintptr_t i = (uintptr_t)(p - a->items);
    if (p->index != (long)i || p->check != p->index * 3 + 1)
        atomic_fetch_add(&a->duplicates, 1);    /* counted as corruption */
    uint64_t bit = (uint64_t)1 << (i % 64);
    if (atomic_fetch_or_explicit(&a->seen[i / 64], bit, memory_order_relaxed) & bit)
        atomic_fetch_add(&a->duplicates, 1);
    atomic_fetch_add_explicit(&a->taken, 1, memory_order_relaxed);
}

static void *thief_main(void *arg)
{
    arena *a = arg;
    void *item;
    for (;;) {
        bool done = atomic_load(&a->done);
        switch (green_deque_steal(&a->q, &item)) {
        case GREEN_DEQUE_ITEM:
            claim(a, item);
            atomic_fetch_add_explicit(&a->stolen, 1, memory_order_relaxed);
            break;
        case GREEN_DEQUE_ABORT:
            break;
        case GREEN_DEQUE_EMPTY:
            /* `done` was read before this steal saw the deque empty, and
             * nobody pushes after done: so it is empty for good. */
            if (done)
                return NULL;
            break;
        }
    }
}

/* The owner pushes in bursts and takes some back after each, so that
 * takes race with steals both on a long deque and on its last item.
 * `burst` items are pushed, then up to burst - keep taken back: long
 * bursts grow the array under the thieves' feet; single items make every
 * take a last-item race. */
static void run_arena(long total, int thieves, int burst, int keep, size_t initial)
{
    arena a = { .total = total };
    pthread_t th[4];
    void *item;
    a.seen = calloc((size_t)total / 64 + 1, sizeof a.seen[0]);
    a.items = malloc((size_t)total * sizeof a.items[0]);
    cr_assert_not_null(a.seen);
    cr_assert_not_null(a.items);
    cr_assert(green_deque_init(&a.q, initial));
    for (int i = 0; i < thieves; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, thief_main, &a), 0);

    long next = 0;
    while (next < total) {
        for (int k = 0; k < burst && next < total; k++, next++) {
            a.items[next].index = next;
            a.items[next].check = next * 3 + 1;
            cr_assert(green_deque_push(&a.q, &a.items[next]));
        }
        /* take all but `keep` of what may be left */
        for (int k = 0; k < burst - keep; k++) {
            if (green_deque_take(&a.q, &item) != GREEN_DEQUE_ITEM)
                break;
            claim(&a, item);
        }
    }
    atomic_store(&a.done, true);
    while (green_deque_take(&a.q, &item) == GREEN_DEQUE_ITEM)
        claim(&a, item);
    for (int i = 0; i < thieves; i++)
        pthread_join(th[i], NULL);

    cr_assert_eq(atomic_load(&a.duplicates), 0, "items taken twice or corrupted");
    cr_assert_eq(atomic_load(&a.taken), total, "taken %ld of %ld items",
                 atomic_load(&a.taken), total);
    for (long i = 0; i < total; i++)
        cr_assert(atomic_load(&a.seen[i / 64]) & ((uint64_t)1 << (i % 64)), "item %ld lost", i);
    green_deque_destroy(&a.q);
    free(a.seen);
    free(a.items);
}

Test(green_deque, owner_and_three_thieves_take_each_item_once, .timeout = 60)
{
    run_arena(400000, 3, 64, 16, 8);
}

Test(green_deque, last_item_races_take_each_item_once, .timeout = 60)
{
    /* push 1, take 1: every take is the t == b case that needs the CAS */
    run_arena(200000, 2, 1, 0, 2);
}

Test(green_deque, growth_under_thieves_takes_each_item_once, .timeout = 60)
{
    /* long bursts from a tiny array: many resizes while thieves read */
    run_arena(400000, 3, 4096, 4000, 2);
}

/* }====== */
