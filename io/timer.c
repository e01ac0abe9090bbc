/*
 * timer.c - a binary min-heap of deadlines with generation-checked ids.
 *
 * Used by each worker of the scheduler: a sleeping or timing-out process
 * adds its deadline; before blocking in io_poll the worker asks
 * io_timers_timeout_ns() how long it may sleep, and afterwards pops every
 * due timer and makes its token runnable.  Owner-only (see io.h): one
 * worker thread owns a heap, so nothing here is atomic or locked.
 *
 * Layout.  Two arrays of the same capacity:
 *
 *   heap[]   entries ordered as a binary heap by (deadline, seq): the
 *            earliest deadline at heap[0]; `seq`, a counter stamped at
 *            insertion, breaks ties so equal deadlines fire in FIFO order
 *            and the order never depends on the heap's history.
 *   slots[]  one per live timer, reached from its id.  A live slot holds
 *            the entry's current heap index (updated on every move), so
 *            cancel finds its entry in O(1) and removes it in O(log n).
 *            A free slot holds the index of the next free slot instead.
 *
 * An id is (generation << 32) | (slot + 1).  The generation of a slot is
 * bumped whenever its timer fires or is cancelled, so an id stays valid
 * exactly as long as its timer is pending; a stale id does not match
 * (until one slot has been reused 2^32 times and its generation wraps).
 * The "+ 1" keeps 0 free as the invalid id.
 *
 * Rejected alternatives:
 *   - An intrusive node embedded in the caller's struct (libuv's
 *     uv_timer_t holds its heap node): no allocation, but a stale cancel
 *     then needs the caller to know whether the node is still queued, and
 *     the node must not be freed while queued; here the heap owns
 *     everything and a stale id is harmless.
 *   - A timer wheel (Varghese and Lauck, 1987; the Linux kernel): O(1)
 *     insert and cancel, but a fixed resolution and a cascade step.  A
 *     worker holds at most thousands of timers, where log2(n) is ~10.
 *   - Lazy cancellation (mark, skip when popped): O(1) cancel, but a
 *     process that sets and cancels a receive timeout in a loop fills the
 *     heap with corpses.
 *
 * Reference: Cormen et al., "Introduction to Algorithms", ch. 6 (heaps).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "io.h"

typedef struct entry {
    uint64_t deadline;  /* CLOCK_MONOTONIC ns */
    uint64_t seq;       /* insertion order, breaks deadline ties */
    void *token;
    uint32_t slot;      /* index into slots[] */
} entry;

typedef struct slot {
    uint32_t gen;       /* the generation in this slot's current id */
    uint32_t pos;       /* live: index in heap[]; free: next free slot */
} slot;

#define NO_SLOT UINT32_MAX

struct io_timers {
    entry *heap;
    slot *slots;
    uint32_t len;       /* live timers = heap entries */
    uint32_t cap;       /* capacity of both arrays */
    uint32_t nslots;    /* slots ever handed out (<= cap) */
    uint32_t free_head; /* first free slot, or NO_SLOT */
    uint64_t seq;       /* next insertion stamp */
};

uint64_t io_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

io_timers *io_timers_new(void)
{
    io_timers *t = calloc(1, sizeof *t);
    if (t)
        t->free_head = NO_SLOT;
    return t;
}

void io_timers_free(io_timers *t)
{
    if (!t)
        return;
    free(t->heap);
    free(t->slots);
    free(t);
}

/* {====== Heap primitives */

static bool earlier(const entry *a, const entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

/* Store `e` at heap index `i` and tell its slot where it now lives: the
 * one place that keeps slots[].pos in step with the heap. */
static void place(io_timers *t, uint32_t i, entry e)
{
    t->heap[i] = e;
    t->slots[e.slot].pos = i;
}

/* Move the entry at `i` towards the root while it is earlier than its
 * parent.  Uses a hole instead of swaps: one write per level. */
static void sift_up(io_timers *t, uint32_t i)
{
    entry e = t->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!earlier(&e, &t->heap[parent]))
            break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, e);
}

/* Move the entry at `i` towards the leaves while a child is earlier. */
static void sift_down(io_timers *t, uint32_t i)
{
    entry e = t->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= t->len)
            break;
        if (child + 1 < t->len && earlier(&t->heap[child + 1], &t->heap[child]))
            child++;
        if (!earlier(&t->heap[child], &e))
            break;
        place(t, i, t->heap[child]);
        i = child;
    }
    place(t, i, e);
}

/* Remove the entry at heap index `i` and free its slot.  The last entry
 * fills the hole; it may belong above or below, so try both directions
 * (at most one of them moves it). */
static void remove_at(io_timers *t, uint32_t i)
{
    uint32_t s = t->heap[i].slot;
    t->slots[s].gen++;             /* every id issued for this use dies */
    t->slots[s].pos = t->free_head;
    t->free_head = s;

    entry last = t->heap[--t->len];
    if (i == t->len)
        return;                    /* it was the last entry */
    place(t, i, last);
    sift_up(t, i);
    sift_down(t, t->slots[last.slot].pos);
}

/* Double both arrays.  Returns false if out of memory (nothing changed
 * that matters: a grown array is simply kept). */
static bool grow(io_timers *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 16;
    if (cap <= t->cap || cap == NO_SLOT)
        return false;
    entry *h = realloc(t->heap, (size_t)cap * sizeof *h);
    if (!h)
        return false;
    t->heap = h;
    slot *s = realloc(t->slots, (size_t)cap * sizeof *s);
    if (!s)
        return false;
    t->slots = s;
    t->cap = cap;
    return true;
}

/* }====== */

io_timer_id io_timers_add(io_timers *t, uint64_t deadline_ns, void *token)
{
    if (t->len == t->cap && !grow(t))
        return 0;
    uint32_t s;
    if (t->free_head != NO_SLOT) {
        s = t->free_head;
        t->free_head = t->slots[s].pos;
    } else {
        s = t->nslots++;  /* nslots <= live timers' peak <= cap */
        t->slots[s].gen = 1;
    }
    uint32_t i = t->len++;
    place(t, i, (entry){ .deadline = deadline_ns, .seq = t->seq++, .token = token, .slot = s });
    sift_up(t, i);
    return ((uint64_t)t->slots[s].gen << 32) | ((uint64_t)s + 1);
}

bool io_timers_cancel(io_timers *t, io_timer_id id)
{
    uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > t->nslots)
        return false;
    uint32_t s = (uint32_t)(low - 1);
    if (t->slots[s].gen != (uint32_t)(id >> 32))
        return false;  /* fired, cancelled, or the slot was reused */
    remove_at(t, t->slots[s].pos);
    return true;
}

bool io_timers_pop(io_timers *t, uint64_t now_ns, void **token_out)
{
    if (t->len == 0 || t->heap[0].deadline > now_ns)
        return false;
    *token_out = t->heap[0].token;
    remove_at(t, 0);
    return true;
}

uint64_t io_timers_next(const io_timers *t)
{
    return t->len ? t->heap[0].deadline : IO_NO_DEADLINE;
}

int64_t io_timers_timeout_ns(const io_timers *t, uint64_t now_ns)
{
    if (t->len == 0)
        return -1;
    uint64_t d = t->heap[0].deadline;
    if (d <= now_ns)
        return 0;
    return d - now_ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(d - now_ns);
}

size_t io_timers_count(const io_timers *t)
{
    return t->len;
}
