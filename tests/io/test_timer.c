/*
 * test_timer.c - the timer heap (io/timer.c): ordering, FIFO ties,
 * cancellation by id (including stale ids), the poll-timeout helper, and a
 * randomised run of adds, cancels and pops checked against a plain sorted
 * list.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "io.h"

static io_timers *t;

static void setup(void)
{
    t = io_timers_new();
    cr_assert_not_null(t);
}

static void teardown(void)
{
    io_timers_free(t);
}

TestSuite(io_timer, .init = setup, .fini = teardown, .timeout = 20);

static int tokens[64];

Test(io_timer, empty_heap_has_no_deadline)
{
    void *tok;
    cr_expect_eq(io_timers_next(t), IO_NO_DEADLINE);
    cr_expect_eq(io_timers_timeout_ns(t, 123), -1);
    cr_expect_not(io_timers_pop(t, UINT64_MAX, &tok));
    cr_expect_eq(io_timers_count(t), 0);
    cr_expect_not(io_timers_cancel(t, 0));
    cr_expect_not(io_timers_cancel(t, 12345), "never issued");
}

Test(io_timer, pops_in_deadline_order_and_only_when_due)
{
    uint64_t d[] = { 50, 10, 40, 30, 20 };
    for (int i = 0; i < 5; i++)
        cr_assert_neq(io_timers_add(t, d[i], &tokens[i]), 0);
    cr_expect_eq(io_timers_next(t), 10);
    cr_expect_eq(io_timers_timeout_ns(t, 4), 6);
    cr_expect_eq(io_timers_timeout_ns(t, 10), 0);

    void *tok;
    cr_expect_not(io_timers_pop(t, 9, &tok), "nothing due before 10");
    cr_assert(io_timers_pop(t, 35, &tok));
    cr_expect_eq(tok, &tokens[1]);
    cr_assert(io_timers_pop(t, 35, &tok));
    cr_expect_eq(tok, &tokens[4]);
    cr_assert(io_timers_pop(t, 35, &tok));
    cr_expect_eq(tok, &tokens[3]);
    cr_expect_not(io_timers_pop(t, 35, &tok));
    cr_expect_eq(io_timers_count(t), 2);
    cr_expect_eq(io_timers_next(t), 40);
}

Test(io_timer, equal_deadlines_fire_in_insertion_order)
{
    for (int i = 0; i < 40; i++)
        io_timers_add(t, 7, &tokens[i]);
    void *tok;
    for (int i = 0; i < 40; i++) {
        cr_assert(io_timers_pop(t, 7, &tok));
        cr_expect_eq(tok, &tokens[i], "position %d", i);
    }
}

Test(io_timer, cancel_removes_exactly_that_timer)
{
    io_timer_id a = io_timers_add(t, 10, &tokens[0]);
    io_timer_id b = io_timers_add(t, 20, &tokens[1]);
    io_timer_id c = io_timers_add(t, 30, &tokens[2]);
    cr_expect(io_timers_cancel(t, b));
    cr_expect_not(io_timers_cancel(t, b), "already cancelled");
    cr_expect(io_timers_cancel(t, a));
    cr_expect_eq(io_timers_next(t), 30);
    void *tok;
    cr_assert(io_timers_pop(t, 100, &tok));
    cr_expect_eq(tok, &tokens[2]);
    cr_expect_not(io_timers_cancel(t, c), "already fired");
}

Test(io_timer, stale_id_does_not_cancel_the_slots_next_timer)
{
    io_timer_id old = io_timers_add(t, 10, &tokens[0]);
    void *tok;
    cr_assert(io_timers_pop(t, 10, &tok));
    io_timer_id fresh = io_timers_add(t, 20, &tokens[1]);  /* reuses the slot */
    cr_expect_neq(old, fresh);
    cr_expect_not(io_timers_cancel(t, old));
    cr_expect_eq(io_timers_count(t), 1, "the new timer survived");
    cr_expect(io_timers_cancel(t, fresh));
}

Test(io_timer, timeout_of_a_far_deadline_saturates)
{
    io_timers_add(t, UINT64_MAX - 1, &tokens[0]);
    cr_expect_eq(io_timers_timeout_ns(t, 0), INT64_MAX);
}

Test(io_timer, now_is_monotonic)
{
    uint64_t a = io_now_ns(), b = io_now_ns();
    cr_expect_leq(a, b);
    cr_expect_gt(a, 0);
}

/* {====== Randomised check against a reference */

typedef struct ref {
    uint64_t deadline;
    uint64_t order;   /* insertion order: the tie-break */
    io_timer_id id;
    int *token;
} ref;

static int ref_cmp(const void *pa, const void *pb)
{
    const ref *a = pa, *b = pb;
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

Test(io_timer, random_adds_cancels_and_pops_match_a_sorted_list)
{
    enum { OPS = 20000, MAXLIVE = 4096 };
    static ref live[MAXLIVE];
    static int toks[OPS];
    int nlive = 0;
    uint64_t order = 0, now = 0;
    srand(12345);

    for (int op = 0; op < OPS; op++) {
        int what = rand() % 10;
        if (what < 5 && nlive < MAXLIVE) {                    /* add */
            uint64_t dl = now + (uint64_t)(rand() % 1000);  /* many ties */
            io_timer_id id = io_timers_add(t, dl, &toks[op]);
            cr_assert_neq(id, 0);
            live[nlive++] = (ref){ dl, order++, id, &toks[op] };
        } else if (what < 8 && nlive > 0) {                   /* cancel */
            int k = rand() % nlive;
            cr_assert(io_timers_cancel(t, live[k].id), "op %d", op);
            cr_assert_not(io_timers_cancel(t, live[k].id));
            live[k] = live[--nlive];
        } else {                                              /* advance */
            now += (uint64_t)(rand() % 200);
            qsort(live, (size_t)nlive, sizeof *live, ref_cmp);
            int due = 0;
            while (due < nlive && live[due].deadline <= now)
                due++;
            void *tok;
            for (int k = 0; k < due; k++) {
                cr_assert(io_timers_pop(t, now, &tok), "op %d: missing pop", op);
                cr_assert_eq(tok, live[k].token, "op %d: pop %d out of order", op, k);
            }
            cr_assert_not(io_timers_pop(t, now, &tok), "op %d: popped early", op);
            for (int k = due; k < nlive; k++)
                live[k - due] = live[k];
            nlive -= due;
        }
        cr_assert_eq(io_timers_count(t), (size_t)nlive);
        if (nlive > 0) {
            uint64_t min = live[0].deadline;
            for (int k = 1; k < nlive; k++)
                if (live[k].deadline < min)
                    min = live[k].deadline;
            cr_assert_eq(io_timers_next(t), min, "op %d", op);
        }
    }
}

/* }====== */
