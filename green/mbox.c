/*
 * mbox.c - mailboxes, links, monitors and kill (see mbox.h for the
 * design).
 *
 * One mutex per actor guards its queue, its waiter, its links and its
 * watchers.  An operation on two actors (link, unlink) takes both locks
 * in address order; a death never holds two: the dying actor takes its
 * link and watcher arrays out under its own lock, then visits each peer
 * under the peer's lock alone.  So there is no lock order to get wrong
 * between a death and a link made at the same moment: whichever takes
 * the dying actor's lock first wins - a link made before sees the death,
 * a link attempted after finds the actor dead and is refused.
 *
 * The queue is a singly linked list with a tail pointer: sends append in
 * O(1), a receive scans from the head for the first match.  Rejected: one
 * queue per tag (a hash of lists), which makes a tagged receive O(1) but
 * loses the single arrival order an unfiltered receive and `after` need;
 * mailboxes are short in practice, and Erlang scans the same way.
 */
#include "mbox.h"
#include "../io/io.h"           /* io_now_ns */

#include <stdlib.h>
#include <string.h>

void green_actor_init(green_actor *a, green_proc *p, uint64_t id, void (*free_fn)(green_actor *))
{
    memset(a, 0, sizeof *a);
    a->proc = p;
    a->id = id;
    pthread_mutex_init(&a->lock, NULL);
    green_waitq_init(&a->waiters, &a->lock);
    a->trap_links = true;
    atomic_init(&a->kill_reason, GREEN_KILL_NONE);
    atomic_init(&a->refs, 1);
    a->free = free_fn;
}

void green_actor_retain(green_actor *a)
{
    atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
}

void green_actor_release(green_actor *a)
{
    if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* Nobody can reach a any more: what is left is only memory (exit
     * emptied the queue, links and watchers of an actor that ran). */
    for (green_msg *m = a->head, *next; m; m = next) {
        next = m->next;
        m->free(m);
    }
    for (uint32_t i = 0; i < a->nlinks; i++)
        green_actor_release(a->links[i].peer);
    for (uint32_t i = 0; i < a->nwatchers; i++)
        green_actor_release(a->watchers[i]);
    free(a->links);
    free(a->watchers);
    pthread_mutex_destroy(&a->lock);
    if (a->free)
        a->free(a);
}

/* {====== signal messages
 *
 * DOWN and LINK_DIED messages come from a slab of their own: fixed-size
 * records carved from blocks of SIGNAL_BLOCK, on one free list under a
 * mutex.  Measured (100,000 monitored children that all exit, one
 * worker): with malloc, each dead child leaves a 48-byte message among
 * the freed chunks of its instance, and glibc's heap then spends its
 * time consolidating around them - 1.1 s; from the slab, 0.22 s.  The
 * records are never returned to the C heap, so the slab is as big as the
 * most signals ever queued at once (48 bytes each).  Rejected:
 * per-thread caches, faster still but unbounded when one worker makes
 * the signals and another frees them. */
#define SIGNAL_BLOCK 1024

static pthread_mutex_t signal_lock = PTHREAD_MUTEX_INITIALIZER;
static green_msg *signal_free;

static void signal_msg_free(green_msg *m)
{
    pthread_mutex_lock(&signal_lock);
    m->next = signal_free;
    signal_free = m;
    pthread_mutex_unlock(&signal_lock);
}

static green_msg *signal_msg_alloc(void)
{
    pthread_mutex_lock(&signal_lock);
    if (!signal_free) {
        green_msg *block = malloc(SIGNAL_BLOCK * sizeof *block);
        if (!block) {
            pthread_mutex_unlock(&signal_lock);
            return NULL;
        }
        for (int i = 0; i < SIGNAL_BLOCK; i++) {
            block[i].next = signal_free;
            signal_free = &block[i];
        }
    }
    green_msg *m = signal_free;
    signal_free = m->next;
    pthread_mutex_unlock(&signal_lock);
    return m;
}

green_msg *green_msg_signal(green_msg_kind kind, uint64_t from, int64_t tag)
{
    green_msg *m = signal_msg_alloc();
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->from = from;
    m->tag = tag;
    m->free = signal_msg_free;
    return m;
}

/* }====== */

/* Under a->lock: append m and wake the receiver, if it waits. */
static void enqueue(green_actor *a, green_msg *m)
{
    m->next = NULL;
    m->seq = ++a->seq;
    if (a->tail)
        a->tail->next = m;
    else
        a->head = m;
    a->tail = m;
    a->len++;
    green_proc *w = green_waitq_pop(&a->waiters);
    if (w)
        green_wake(w);
}

bool green_actor_send(green_actor *a, green_msg *m)
{
    pthread_mutex_lock(&a->lock);
    bool ok = !a->dead;
    if (ok)
        enqueue(a, m);
    pthread_mutex_unlock(&a->lock);
    return ok;
}

uint64_t green_actor_seq(green_actor *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t s = a->seq;
    pthread_mutex_unlock(&a->lock);
    return s;
}

static bool matches(const green_msg *m, const int64_t *tags, uint32_t ntags, uint64_t after)
{
    if (m->seq <= after)
        return false;
    if (!ntags)
        return true;
    if (!m->tag)
        return false;           /* untagged never matches a filter */
    for (uint32_t i = 0; i < ntags; i++)
        if (tags[i] == m->tag)
            return true;
    return false;
}

/* Under a->lock: a receive that returns takes its process off the
 * waiters, where a wake-up by its timer left it; else a later message
 * would pop it while it waits on some other queue (a process is on one
 * queue at a time).  Only the actor's own process ever waits there. */
static void unpark(green_actor *a, green_proc *self)
{
    if (self && a->waiters.head == self)
        green_waitq_pop(&a->waiters);
}

int green_actor_receive(green_actor *a, green_proc *self, const int64_t *tags, uint32_t ntags,
                        uint64_t after, uint64_t deadline_ns, green_msg **out)
{
    pthread_mutex_lock(&a->lock);
    green_msg *prev = NULL;
    for (green_msg *m = a->head; m; prev = m, m = m->next) {
        if (!matches(m, tags, ntags, after))
            continue;
        if (prev)
            prev->next = m->next;
        else
            a->head = m->next;
        if (a->tail == m)
            a->tail = prev;
        a->len--;
        m->next = NULL;
        unpark(a, self);
        pthread_mutex_unlock(&a->lock);
        *out = m;
        return GREEN_RECV_OK;
    }
    uint64_t now = deadline_ns == UINT64_MAX ? 0 : io_now_ns();
    if (deadline_ns != UINT64_MAX && now >= deadline_ns) {
        unpark(a, self);
        pthread_mutex_unlock(&a->lock);
        return GREEN_RECV_TIMEOUT;
    }
    /* Park, under the same lock the senders take: a message sent after
     * the scan finds the waiter.  A retry after a spurious wake-up may
     * still be queued: push only once. */
    green_waitq_push(&a->waiters, self);       /* once: it checks */
    pthread_mutex_unlock(&a->lock);
    if (deadline_ns != UINT64_MAX)
        green_sleep(self, deadline_ns - now);
    return GREEN_RECV_BLOCKED;
}

/* Under a->lock: the index of a's link to peer, or -1. */
static int32_t link_find(const green_actor *a, const green_actor *peer)
{
    for (uint32_t i = 0; i < a->nlinks; i++)
        if (a->links[i].peer == peer)
            return (int32_t)i;
    return -1;
}

/* Under a->lock: set a's link to peer (taking a reference if new). */
static bool link_set(green_actor *a, green_actor *peer, int64_t tag)
{
    int32_t i = link_find(a, peer);
    if (i >= 0) {
        a->links[i].tag = tag;
        return true;
    }
    if (a->nlinks == a->caplinks) {
        uint32_t cap = a->caplinks ? a->caplinks * 2 : 2;
        green_link *v = cap > a->caplinks ? realloc(a->links, cap * sizeof *v) : NULL;
        if (!v)
            return false;
        a->links = v;
        a->caplinks = cap;
    }
    a->links[a->nlinks++] = (green_link){ peer, tag };
    green_actor_retain(peer);
    return true;
}

/* Under a->lock: remove a's link to peer; returns the reference it held
 * (the caller releases it outside the lock), or NULL. */
static green_actor *link_drop(green_actor *a, green_actor *peer)
{
    int32_t i = link_find(a, peer);
    if (i < 0)
        return NULL;
    a->links[i] = a->links[--a->nlinks];
    return peer;
}

static void lock2(green_actor *a, green_actor *b)
{
    if (a < b) {
        pthread_mutex_lock(&a->lock);
        pthread_mutex_lock(&b->lock);
    } else {
        pthread_mutex_lock(&b->lock);
        pthread_mutex_lock(&a->lock);
    }
}

static void unlock2(green_actor *a, green_actor *b)
{
    pthread_mutex_unlock(&a->lock);
    pthread_mutex_unlock(&b->lock);
}

bool green_actor_link(green_actor *a, green_actor *b, int64_t tag_a, int64_t tag_b)
{
    if (a == b)
        return true;
    lock2(a, b);
    bool ok = !a->dead && !b->dead;
    if (ok && link_set(a, b, tag_a) && !link_set(b, a, tag_b)) {
        green_actor *r = link_drop(a, b);       /* undo: no half link */
        unlock2(a, b);
        if (r)
            green_actor_release(r);
        return false;
    }
    unlock2(a, b);
    return ok;
}

void green_actor_unlink(green_actor *a, green_actor *b)
{
    if (a == b)
        return;
    lock2(a, b);
    green_actor *ra = link_drop(a, b), *rb = link_drop(b, a);
    unlock2(a, b);
    if (ra)
        green_actor_release(ra);
    if (rb)
        green_actor_release(rb);
}

void green_actor_trap_links(green_actor *a, bool on)
{
    pthread_mutex_lock(&a->lock);
    a->trap_links = on;
    pthread_mutex_unlock(&a->lock);
}

/* Under a->lock (and not dead): kill.  green_cancel under the lock is
 * what makes a->proc safe to touch: the process cannot have passed
 * green_actor_exit, which takes this lock, and so cannot be freed.  But
 * green_cancel takes the lock of the queue the process waits on, and a
 * process blocked in receive waits on a->waiters, whose lock is this
 * one: so it is taken off that queue here first (only a's own process
 * ever waits there), and green_cancel finds it on no queue of ours. */
static void kill_locked(green_actor *a, green_kill why)
{
    int none = GREEN_KILL_NONE;
    atomic_compare_exchange_strong(&a->kill_reason, &none, (int)why);
    if (!a->proc)
        return;
    if (a->waiters.head == a->proc)
        green_waitq_pop(&a->waiters);
    green_cancel(a->proc);
}

/* Under a->lock: a linked actor `from` failed, holding tag. */
static void link_died_locked(green_actor *a, uint64_t from, int64_t tag)
{
    if (a->dead)
        return;
    if (!a->trap_links) {
        green_msg *m = green_msg_signal(GREEN_MSG_LINK_DIED, from, tag);
        if (m) {
            enqueue(a, m);
            return;
        }
        /* No memory for the message: dying is the safe side of a link
         * death (the survivor asked to be told; it is not told wrongly). */
    }
    kill_locked(a, GREEN_KILL_LINK);
}

void green_actor_link_died(green_actor *a, uint64_t from, int64_t tag)
{
    pthread_mutex_lock(&a->lock);
    link_died_locked(a, from, tag);
    pthread_mutex_unlock(&a->lock);
}

bool green_actor_monitor(green_actor *watcher, green_actor *target)
{
    pthread_mutex_lock(&target->lock);
    bool ok = !target->dead;
    if (ok && target->nwatchers == target->capwatchers) {
        uint32_t cap = target->capwatchers ? target->capwatchers * 2 : 2;
        green_actor **v = cap > target->capwatchers
                              ? realloc(target->watchers, cap * sizeof *v)
                              : NULL;
        if (v) {
            target->watchers = v;
            target->capwatchers = cap;
        } else {
            ok = false;
        }
    }
    if (ok) {
        target->watchers[target->nwatchers++] = watcher;
        green_actor_retain(watcher);
    }
    pthread_mutex_unlock(&target->lock);
    return ok;
}

void green_actor_demonitor(green_actor *watcher, green_actor *target)
{
    green_actor *r = NULL;
    pthread_mutex_lock(&target->lock);
    for (uint32_t i = 0; i < target->nwatchers; i++) {
        if (target->watchers[i] == watcher) {
            /* Keep the order of the others: their DOWNs go in the order
             * the monitors were made. */
            memmove(&target->watchers[i], &target->watchers[i + 1],
                    (target->nwatchers - i - 1) * sizeof *target->watchers);
            target->nwatchers--;
            r = watcher;
            break;
        }
    }
    pthread_mutex_unlock(&target->lock);
    if (r)
        green_actor_release(r);
}

void green_actor_kill(green_actor *a, green_kill why)
{
    pthread_mutex_lock(&a->lock);
    if (!a->dead)
        kill_locked(a, why);
    pthread_mutex_unlock(&a->lock);
}

void green_actor_exit(green_actor *a, bool failed)
{
    pthread_mutex_lock(&a->lock);
    if (a->dead) {
        pthread_mutex_unlock(&a->lock);
        return;
    }
    a->dead = true;
    green_msg *queued = a->head;
    a->head = a->tail = NULL;
    a->len = 0;
    green_link *links = a->links;
    uint32_t nlinks = a->nlinks;
    green_actor **watchers = a->watchers;
    uint32_t nwatchers = a->nwatchers;
    a->links = NULL;
    a->nlinks = a->caplinks = 0;
    a->watchers = NULL;
    a->nwatchers = a->capwatchers = 0;
    while (green_waitq_pop(&a->waiters))
        ;
    a->proc = NULL;             /* about to go: nobody may touch it */
    pthread_mutex_unlock(&a->lock);

    for (green_msg *m = queued, *next; m; m = next) {
        next = m->next;
        m->free(m);
    }
    /* Links: the peer forgets us, and hears of a failure. */
    for (uint32_t i = 0; i < nlinks; i++) {
        green_actor *peer = links[i].peer;
        pthread_mutex_lock(&peer->lock);
        green_actor *back = link_drop(peer, a);
        if (failed)
            link_died_locked(peer, a->id, links[i].tag);
        pthread_mutex_unlock(&peer->lock);
        if (back)
            green_actor_release(back);
        green_actor_release(peer);
    }
    free(links);
    /* Monitors: DOWN for any end.  A DOWN that cannot be allocated is
     * lost (the watcher then waits as if the target still ran): there is
     * no safe side to fall back to for a one-way, reason-blind signal. */
    for (uint32_t i = 0; i < nwatchers; i++) {
        green_msg *m = green_msg_signal(GREEN_MSG_DOWN, a->id, 0);
        if (m && !green_actor_send(watchers[i], m))
            m->free(m);
        green_actor_release(watchers[i]);
    }
    free(watchers);
}
