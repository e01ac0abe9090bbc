/*
 * deque.c - the Chase-Lev work-stealing deque (contract in green/deque.h).
 *
 * The three operations transcribe figure 1 of Lê, Pop, Cohen and Zappa
 * Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models"
 * (PPoPP 2013), keeping every memory order of the figure.  Each line that
 * is not relaxed carries a comment saying what it orders; the paper's
 * section 3 gives the proof.  The only departures, each marked below:
 *   - indices are signed 64-bit, not size_t (see green/deque.h);
 *   - in ThreadSanitizer builds only, push's release fence becomes a
 *     release store (see "ThreadSanitizer" below);
 *   - `memory_order_consume` is written as acquire, which is what every
 *     current compiler emits for consume anyway (C++17 P0371R1
 *     "temporarily discouraged" consume) and which TSan understands;
 *   - the array is indexed with a mask, its size being a power of two;
 *   - on x86-64 the seq_cst fence is written as the instruction gcc emits
 *     for it, so that every compiler uses the cheap one (see FULL_FENCE).
 *
 * Invariants:
 *   - top <= bottom + 1 at all times; top == bottom + 1 only transiently,
 *     inside take.  Items live in slots [top, bottom) modulo the size.
 *   - Only the owner writes bottom and array; thieves write only top, and
 *     only by CAS, which is what makes "every item is taken exactly once".
 *   - top never decreases, so a CAS on it cannot suffer ABA.
 *
 * Memory reclamation.  When push grows the array, a thief may already
 * have loaded the old array pointer and be about to read a slot from it.
 * Such a thief reads a value that is still correct (growth copies, never
 * moves, the live items) and then its CAS on top decides.  So the old
 * array must stay readable until no thief can hold its address, and the
 * owner cannot know when that is without talking to the thieves.  We keep
 * outgrown arrays on an owner-only list and free them in
 * green_deque_destroy, when no thief may run.  That costs little: sizes
 * double, so all retired arrays together are smaller than the live one.
 * Rejected: hazard pointers or epochs (a fence or a shared counter in
 * every steal, to save memory bounded by 1x the live array); shrinking
 * (a run queue that was once long is likely to be long again).
 */
#include "deque.h"

#include <stdlib.h>

/* ThreadSanitizer does not model atomic_thread_fence (it treats a fence
 * as a no-op), so it would see push's "release fence, relaxed store" as
 * publishing nothing, and report every item a thief reads as a race.
 * Under TSan only, push uses a release store of bottom instead, which
 * gives the thieves' acquire load of bottom the same guarantee.  (The
 * seq_cst fences in take and steal need no stand-in: they order two
 * atomics against each other, which TSan does not check, only values
 * handed over.)  gcc says __SANITIZE_THREAD__, clang __has_feature. */
#if defined(__SANITIZE_THREAD__)
#define GREEN_DEQUE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GREEN_DEQUE_TSAN 1
#endif
#endif
#ifndef GREEN_DEQUE_TSAN
#define GREEN_DEQUE_TSAN 0
#endif

/* The seq_cst fence of take and steal, the deque's main cost.  On x86-64
 * a locked read-modify-write of a private location is a full barrier for
 * ordinary memory, and much cheaper than MFENCE; gcc >= 11 compiles
 * atomic_thread_fence(seq_cst) to exactly this `lock or`, clang 14 to
 * MFENCE.  Measured on the reference AMD EPYC VM (make bench-green):
 * push+take pair 5.0 ns with `lock or`, 40 ns with MFENCE; steal 4.8 vs
 * 26.5 ns.  So we spell it out, as Linux does for smp_mb() on x86-64.
 * TSan builds use it too: TSan ignores fences however they are written
 * (gcc's -Wtsan says so), but the algorithm still needs the real barrier
 * on the real CPU.  A macro, not an inline function: gcc 12 emits -Wtsan
 * for a C11 fence only once it has been inlined from a helper. */
#if defined(__x86_64__) && defined(__GNUC__)
#define FULL_FENCE() __asm__ volatile("lock orq $0, (%%rsp)" ::: "memory", "cc")
#else
#define FULL_FENCE() atomic_thread_fence(memory_order_seq_cst)
#endif

/* Short atomic accessors, to keep the figure's lines short. */
#define LOAD(p, mo)       atomic_load_explicit((p), memory_order_##mo)
#define STORE(p, v, mo)   atomic_store_explicit((p), (v), memory_order_##mo)

/* {====== arrays */

static green_deque_array *array_new(size_t slots)
{
    green_deque_array *a = malloc(sizeof *a + slots * sizeof a->slot[0]);
    if (a == NULL)
        return NULL;
    a->mask = slots - 1;
    a->retired_next = NULL;
    /* The slots need no initialisation: only [top, bottom) is ever read. */
    return a;
}

/* Doubles the array holding [t, b).  The new array's contents are
 * published by the release store of q->array, which pairs with the
 * acquire ("consume" in the paper) load of q->array in steal. */
static green_deque_array *grow(green_deque *q, green_deque_array *a,
                               int64_t t, int64_t b)
{
    green_deque_array *n = array_new(2 * (a->mask + 1));
    if (n == NULL)
        return NULL;
    for (int64_t i = t; i < b; i++)
        STORE(&n->slot[i & n->mask], LOAD(&a->slot[i & a->mask], relaxed), relaxed);
    STORE(&q->array, n, release);
    a->retired_next = q->retired;   /* keep it: a thief may be reading it */
    q->retired = a;
    return n;
}

/* }====== */

bool green_deque_init(green_deque *q, size_t capacity)
{
    size_t slots = 2;
    while (slots < capacity)
        slots *= 2;
    green_deque_array *a = array_new(slots);
    if (a == NULL)
        return false;
    atomic_init(&q->top, 0);
    atomic_init(&q->bottom, 0);
    atomic_init(&q->array, a);
    q->retired = NULL;
    return true;
}

void green_deque_destroy(green_deque *q)
{
    free(LOAD(&q->array, relaxed));
    for (green_deque_array *a = q->retired, *next; a != NULL; a = next) {
        next = a->retired_next;
        free(a);
    }
    q->retired = NULL;
}

/* {====== the three operations of figure 1 */

bool green_deque_push(green_deque *q, void *item)
{
    int64_t b = LOAD(&q->bottom, relaxed);
    /* acquire: pairs with the thieves' CAS on top, so that a slot is not
     * reused before the thief that emptied it has read it. */
    int64_t t = LOAD(&q->top, acquire);
    green_deque_array *a = LOAD(&q->array, relaxed);
    if (b - t > (int64_t)a->mask) {         /* full: b - t == size */
        a = grow(q, a, t, b);
        if (a == NULL)
            return false;
    }
    STORE(&a->slot[b & a->mask], item, relaxed);
    /* release fence: the item (and whatever the caller wrote into it, and
     * a grown array) become visible before the new bottom that lets a
     * thief see them. */
#if GREEN_DEQUE_TSAN
    STORE(&q->bottom, b + 1, release);      /* see "ThreadSanitizer" above */
#else
    atomic_thread_fence(memory_order_release);
    STORE(&q->bottom, b + 1, relaxed);
#endif
    return true;
}

green_deque_status green_deque_take(green_deque *q, void **item_out)
{
    int64_t b = LOAD(&q->bottom, relaxed) - 1;
    green_deque_array *a = LOAD(&q->array, relaxed);
    STORE(&q->bottom, b, relaxed);
    /* seq_cst fence: the store of bottom and the load of top below must not
     * be reordered (store->load, the one order x86 does not keep), or the
     * owner and a thief could both miss each other and take the same last
     * item.  This fence is most of take's cost (see FULL_FENCE). */
    FULL_FENCE();
    int64_t t = LOAD(&q->top, relaxed);

    if (t > b) {                            /* empty: undo */
        STORE(&q->bottom, b + 1, relaxed);
        return GREEN_DEQUE_EMPTY;
    }
    void *item = LOAD(&a->slot[b & a->mask], relaxed);
    if (t == b) {
        /* The last item: thieves may be after it too.  Whoever moves top
         * from t to t + 1 wins it.  seq_cst, as in the figure. */
        bool won = atomic_compare_exchange_strong_explicit(
            &q->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed);
        STORE(&q->bottom, b + 1, relaxed);
        if (!won)
            return GREEN_DEQUE_EMPTY;
    }
    *item_out = item;
    return GREEN_DEQUE_ITEM;
}

green_deque_status green_deque_steal(green_deque *q, void **item_out)
{
    /* acquire: pairs with other thieves' CAS on top. */
    int64_t t = LOAD(&q->top, acquire);
    /* seq_cst fence: the thief's half of the store->load handshake with
     * take (read top, then bottom, in this order as seen by the owner). */
    FULL_FENCE();
    /* acquire: pairs with push's release fence, so the item is visible. */
    int64_t b = LOAD(&q->bottom, acquire);
    if (t >= b)
        return GREEN_DEQUE_EMPTY;

    /* The paper: memory_order_consume (see the file header). */
    green_deque_array *a = LOAD(&q->array, acquire);
    void *item = LOAD(&a->slot[t & a->mask], relaxed);
    /* seq_cst CAS, as in the figure: if top moved, the owner or another
     * thief took slot t first, and `item` may be stale. */
    if (!atomic_compare_exchange_strong_explicit(
            &q->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed))
        return GREEN_DEQUE_ABORT;
    *item_out = item;
    return GREEN_DEQUE_ITEM;
}

/* }====== */

size_t green_deque_size(green_deque *q)
{
    int64_t b = LOAD(&q->bottom, relaxed);
    int64_t t = LOAD(&q->top, relaxed);
    return b > t ? (size_t)(b - t) : 0;
}
