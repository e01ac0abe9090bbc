/*
 * test_mbox.c - mailboxes, links, monitors and kill (green/mbox.c), with
 * C processes written as step functions on a real scheduler; no wasm.
 * Also run under ThreadSanitizer (make tsan).
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "green.h"
#include "io.h"
#include "mbox.h"

/* {====== actor processes */

static atomic_int actors_freed;

typedef struct aproc aproc;
typedef green_step (*astep)(aproc *p);

struct aproc {
    green_proc g;
    green_actor a;
    astep step;
    int state;
    bool fail;                  /* exit as a failure */
    int64_t tags[16];           /* what it received, in order */
    uint64_t froms[16];
    int kinds[16];
    int n;
    int64_t filter[4];
    uint32_t nfilter;
    uint64_t after, deadline;
    int result;                 /* of the last receive */
    atomic_bool done;
    atomic_bool timed_out;      /* timeout_then_take: the first receive */
    int kill_reason;            /* as it ended */
};

static void actor_free(green_actor *a)
{
    atomic_fetch_add(&actors_freed, 1);
    free((aproc *)((char *)a - offsetof(aproc, a)));
}

static void proc_free(green_proc *g)
{
    green_actor_release(&((aproc *)g)->a);
}

static green_step arun(green_proc *g)
{
    aproc *p = (aproc *)g;
    green_step s = green_cancelled(g) ? GREEN_EXIT : p->step(p);
    if (s == GREEN_EXIT) {
        p->kill_reason = green_actor_kill_reason(&p->a);
        green_actor_exit(&p->a, p->fail || green_cancelled(g));
        atomic_store(&p->done, true);
    }
    return s;
}

/* A new actor process (not yet runnable): spawn it with go(). */
static aproc *anew(uint64_t id, astep step)
{
    aproc *p = calloc(1, sizeof *p);
    cr_assert(p);
    p->step = step;
    p->deadline = UINT64_MAX;
    green_actor_init(&p->a, &p->g, id, actor_free);
    green_actor_retain(&p->a);          /* the test's reference */
    return p;
}

static void msg_free(green_msg *m)
{
    free(m);
}

static green_msg *msg(int64_t tag)
{
    green_msg *m = calloc(1, sizeof *m);
    cr_assert(m);
    m->tag = tag;
    m->kind = GREEN_MSG_DATA;
    m->free = msg_free;
    return m;
}

static void send_tag(aproc *to, int64_t tag)
{
    green_msg *m = msg(tag);
    if (!green_actor_send(&to->a, m))
        m->free(m);
}

/* Receive with p's filter/after/deadline into p's log: GREEN_BLOCK, or
 * the result in p->result. */
static bool take(aproc *p)
{
    green_msg *m;
    int r = green_actor_receive(&p->a, &p->g, p->filter, p->nfilter, p->after, p->deadline, &m);
    if (r == GREEN_RECV_BLOCKED)
        return false;
    p->result = r;
    if (r == GREEN_RECV_OK) {
        if (p->n < 16) {
            p->tags[p->n] = m->tag;
            p->froms[p->n] = m->from;
            p->kinds[p->n] = m->kind;
            p->n++;
        }
        m->free(m);
    }
    return true;
}

static green_sched *sched;

static void go(aproc *p)
{
    green_spawn(sched, &p->g, arun, proc_free, p);
}

static void wait_done(aproc *p)
{
    while (!atomic_load(&p->done))
        usleep(1000);
}

static void setup(void)
{
    green_config cfg = { .workers = 2 };
    sched = green_sched_new(&cfg);
    cr_assert(sched);
    cr_assert_eq(green_sched_start(sched), 0);
    atomic_store(&actors_freed, 0);
}

static void teardown(void)
{
    green_sched_wait_all(sched);
    green_sched_stop(sched);
    green_sched_free(sched);
}

static void release(aproc *p)
{
    green_release(&p->g);               /* green_spawn's extra reference */
    green_actor_release(&p->a);         /* the test's */
}

/* A test with a scheduler of its own, set up and stopped around it.
 * (Not Criterion's .init/.fini, which the TSan shim runner lacks.) */
#define MTEST(name, secs)                                                 \
    static void name##_body(void);                                        \
    Test(mbox, name, .timeout = secs)                                     \
    {                                                                     \
        setup();                                                          \
        name##_body();                                                    \
        teardown();                                                       \
    }                                                                     \
    static void name##_body(void)

/* }====== */

/* {====== receive */

/* Receives `state` messages then exits (filter as set). */
static green_step receiver(aproc *p)
{
    while (p->state > 0) {
        if (!take(p))
            return GREEN_BLOCK;
        p->state--;
        p->nfilter = 0;                 /* only the first is filtered */
    }
    return GREEN_EXIT;
}

MTEST(fifo_and_selective_receive, 20)
{
    aproc *p = anew(1, receiver);
    p->state = 4;
    p->filter[0] = 2;
    p->nfilter = 1;
    for (int64_t t = 1; t <= 3; t++)
        send_tag(p, t);
    send_tag(p, 2);
    go(p);
    wait_done(p);
    int64_t want[] = { 2, 1, 3, 2 };
    cr_assert_eq(p->n, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(p->tags[i], want[i], "message %d: tag %lld", i, (long long)p->tags[i]);
    release(p);
}

MTEST(untagged_never_matches_a_filter, 20)
{
    aproc *p = anew(1, receiver);
    p->state = 1;
    p->filter[0] = 0;
    p->nfilter = 1;
    p->deadline = 0;                    /* look only */
    send_tag(p, 0);
    go(p);
    wait_done(p);
    cr_assert_eq(p->result, GREEN_RECV_TIMEOUT);
    cr_assert_eq(p->a.len, 0, "exit frees what is queued");
    release(p);
}

MTEST(after_skips_older_messages, 20)
{
    aproc *p = anew(1, receiver);
    send_tag(p, 7);
    send_tag(p, 7);
    p->after = green_actor_seq(&p->a);
    send_tag(p, 8);
    p->state = 1;
    go(p);
    wait_done(p);
    cr_assert_eq(p->n, 1);
    cr_assert_eq(p->tags[0], 8);
    release(p);
}

/* Times out once, then takes what comes later. */
static green_step timeout_then_take(aproc *p)
{
    if (p->state == 0) {
        if (!take(p))
            return GREEN_BLOCK;
        cr_assert_eq(p->result, GREEN_RECV_TIMEOUT);
        p->state = 1;
        p->deadline = UINT64_MAX;
        atomic_store(&p->timed_out, true);
    }
    if (!take(p))
        return GREEN_BLOCK;
    return GREEN_EXIT;
}

MTEST(timeout_then_a_later_message, 20)
{
    aproc *p = anew(1, timeout_then_take);
    p->deadline = io_now_ns() + 20 * 1000000ull;
    go(p);
    while (!atomic_load(&p->timed_out))
        usleep(1000);
    usleep(5000);
    send_tag(p, 5);                     /* wakes the blocked receiver */
    wait_done(p);
    cr_assert_eq(p->n, 1);
    cr_assert_eq(p->tags[0], 5);
    release(p);
}

/* }====== */

/* {====== links, monitors, kill */

static green_step sleeper(aproc *p)
{
    return take(p) ? GREEN_EXIT : GREEN_BLOCK;     /* until a message, a kill */
}

static green_step quitter(aproc *p)
{
    return GREEN_EXIT;
}

MTEST(a_failure_kills_a_trapping_link, 20)
{
    aproc *a = anew(1, sleeper), *b = anew(2, sleeper);
    cr_assert(green_actor_link(&a->a, &b->a, 11, 22));
    go(a);
    go(b);
    green_actor_kill(&a->a, GREEN_KILL_SIGNAL);
    wait_done(a);
    wait_done(b);
    cr_assert_eq(a->kill_reason, GREEN_KILL_SIGNAL);
    cr_assert_eq(b->kill_reason, GREEN_KILL_LINK);
    release(a);
    release(b);
}

MTEST(death_spreads_along_a_chain, 20)
{
    aproc *p[3];
    for (int i = 0; i < 3; i++)
        p[i] = anew((uint64_t)i + 1, sleeper);
    cr_assert(green_actor_link(&p[0]->a, &p[1]->a, 0, 0));
    cr_assert(green_actor_link(&p[1]->a, &p[2]->a, 0, 0));
    for (int i = 0; i < 3; i++)
        go(p[i]);
    green_actor_kill(&p[0]->a, GREEN_KILL_SIGNAL);
    for (int i = 0; i < 3; i++)
        wait_done(p[i]);
    cr_assert_eq(p[2]->kill_reason, GREEN_KILL_LINK);
    for (int i = 0; i < 3; i++)
        release(p[i]);
}

MTEST(link_died_message_carries_the_dead_sides_tag, 20)
{
    aproc *a = anew(1, quitter), *b = anew(2, receiver);
    a->fail = true;
    b->state = 1;
    green_actor_trap_links(&b->a, false);
    cr_assert(green_actor_link(&a->a, &b->a, 33, 44));
    go(b);
    go(a);
    wait_done(b);
    cr_assert_eq(b->n, 1);
    cr_assert_eq(b->kinds[0], GREEN_MSG_LINK_DIED);
    cr_assert_eq(b->tags[0], 33);
    cr_assert_eq(b->froms[0], 1);
    cr_assert_eq(b->kill_reason, GREEN_KILL_NONE);
    release(a);
    release(b);
}

MTEST(normal_end_and_unlink_tell_nothing, 20)
{
    aproc *a = anew(1, quitter), *b = anew(2, receiver), *c = anew(3, quitter);
    c->fail = true;
    b->state = 1;
    b->deadline = io_now_ns() + 50 * 1000000ull;
    green_actor_trap_links(&b->a, false);
    cr_assert(green_actor_link(&a->a, &b->a, 1, 1));
    cr_assert(green_actor_link(&c->a, &b->a, 2, 2));
    green_actor_unlink(&b->a, &c->a);
    go(a);
    go(c);
    go(b);
    wait_done(b);
    cr_assert_eq(b->result, GREEN_RECV_TIMEOUT);
    release(a);
    release(b);
    release(c);
}

MTEST(link_and_monitor_of_an_ended_actor_fail, 20)
{
    aproc *a = anew(1, quitter), *b = anew(2, quitter);
    go(a);
    wait_done(a);
    cr_assert_not(green_actor_link(&b->a, &a->a, 0, 0));
    cr_assert_not(green_actor_monitor(&b->a, &a->a));
    green_msg *m = msg(1);
    cr_assert_not(green_actor_send(&a->a, m), "an ended actor takes no message");
    m->free(m);
    go(b);
    wait_done(b);
    release(a);
    release(b);
}

MTEST(monitors_get_down_for_any_end, 20)
{
    aproc *w = anew(9, receiver), *ok = anew(1, quitter), *bad = anew(2, quitter),
          *gone = anew(3, quitter);
    bad->fail = true;
    w->state = 2;
    cr_assert(green_actor_monitor(&w->a, &ok->a));
    cr_assert(green_actor_monitor(&w->a, &bad->a));
    cr_assert(green_actor_monitor(&w->a, &gone->a));
    green_actor_demonitor(&w->a, &gone->a);
    go(w);
    go(ok);
    wait_done(ok);
    go(bad);
    go(gone);
    wait_done(w);
    cr_assert_eq(w->n, 2);
    cr_assert_eq(w->kinds[0], GREEN_MSG_DOWN);
    cr_assert_eq(w->froms[0], 1);
    cr_assert_eq(w->kinds[1], GREEN_MSG_DOWN);
    cr_assert_eq(w->froms[1], 2);
    cr_assert_eq(w->tags[1], 0, "a DOWN has no tag");
    wait_done(gone);
    release(w);
    release(ok);
    release(bad);
    release(gone);
}

MTEST(every_actor_is_freed_once, 20)
{
    aproc *a = anew(1, sleeper), *b = anew(2, sleeper);
    cr_assert(green_actor_link(&a->a, &b->a, 0, 0));
    cr_assert(green_actor_monitor(&a->a, &b->a));
    go(a);
    go(b);
    green_actor_kill(&b->a, GREEN_KILL_SIGNAL);
    wait_done(a);
    wait_done(b);
    release(a);
    release(b);
    green_sched_wait_all(sched);
    for (int i = 0; i < 1000 && atomic_load(&actors_freed) < 2; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&actors_freed), 2);
}

/* }====== */

/* {====== many senders */

#define SENDERS 4
#define PER_SENDER 5000

static aproc *sink;

static green_step sender(aproc *p)
{
    for (int i = 0; i < PER_SENDER; i++)
        send_tag(sink, (int64_t)(p->a.id * 1000000 + (uint64_t)i + 1));
    return GREEN_EXIT;
}

static green_step counter(aproc *p)
{
    static int64_t last[SENDERS + 1];
    for (;;) {
        green_msg *m;
        int r = green_actor_receive(&p->a, &p->g, NULL, 0, 0, UINT64_MAX, &m);
        if (r == GREEN_RECV_BLOCKED)
            return GREEN_BLOCK;
        int64_t s = m->tag / 1000000, i = m->tag % 1000000;
        cr_assert(s >= 1 && s <= SENDERS);
        cr_assert_eq(i, last[s] + 1, "sender %lld: %lld after %lld", (long long)s, (long long)i,
                     (long long)last[s]);
        last[s] = i;
        m->free(m);
        if (++p->state == SENDERS * PER_SENDER)
            return GREEN_EXIT;
    }
}

MTEST(many_senders_keep_their_order, 60)
{
    sink = anew(100, counter);
    go(sink);
    aproc *s[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        s[i] = anew((uint64_t)i + 1, sender);
        go(s[i]);
    }
    wait_done(sink);
    cr_assert_eq(sink->state, SENDERS * PER_SENDER);
    for (int i = 0; i < SENDERS; i++) {
        wait_done(s[i]);
        release(s[i]);
    }
    release(sink);
}

/* }====== */
