/*
 * deque.h - the Chase-Lev work-stealing deque: each scheduler worker's run
 * queue.
 *
 * What: a growable double-ended queue of `void *` items.  One thread, the
 * owner, pushes and takes at the bottom (LIFO, no atomic read-modify-write
 * unless one item is left); any thread may steal from the top (FIFO, one
 * compare-and-swap).  This is the algorithm of Chase and Lev (SPAA 2005)
 * with the C11 memory orders proved correct by Lê, Pop, Cohen and Zappa
 * Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models",
 * PPoPP 2013, figure 1.  green/deque.c follows that figure line by line.
 *
 * Who may call what (as Go's proc.go labels runqput/runqsteal):
 *   green_deque_init, _push, _take, _destroy   the owner thread only;
 *   green_deque_steal                          any thread, concurrently.
 * The owner may change over time if the hand-over itself synchronises
 * (e.g. a mutex or a thread join), never while others push or take.
 *
 * Costs measured on the 2-vCPU AMD EPYC VM (make bench-green): ~5 ns per
 * uncontended push+take pair and per steal, dominated by the seq_cst fence
 * (RUNTIME-NOTES lesson 10 has 18 and 20 ns, the cost with an MFENCE; see
 * FULL_FENCE in deque.c).  With a thief spinning on the other core, a pair
 * costs 35-100 ns, because top and bottom bounce between the caches.
 * Small next to a ~500 ns message hop, but thieves should back off.
 *
 * Rejected alternatives:
 *   - A mutex-protected deque: every take would pay a lock round trip and
 *     thieves would block the owner.
 *   - Go's bounded ring with "steal half" (runqgrab): it needs the owner
 *     to CAS the head on every pop.  Chase-Lev's owner synchronises only
 *     for the last item, which is exactly why a thief here may take only
 *     one item per CAS: a thief moving top by k > 1 could race with an
 *     owner take that, seeing more than one item, does not CAS.  So there
 *     is no steal-half helper; a scheduler that wants batches steals in a
 *     loop, or adds a Go-style bounded ring in front of this deque.
 */
#ifndef GREEN_DEQUE_H
#define GREEN_DEQUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What take and steal found. */
typedef enum green_deque_status {
    GREEN_DEQUE_ITEM = 0,   /* *item_out holds an item, now the caller's */
    GREEN_DEQUE_EMPTY,      /* the deque was empty */
    GREEN_DEQUE_ABORT,      /* steal only: lost a race with another thief
                               or the owner; the deque may still hold
                               items, so a thief may retry (or try another
                               victim) */
} green_deque_status;

/* A circular array of 2^k slots.  Slots are atomics because a thief may
 * read a slot while the owner overwrites it after wrapping around; the
 * thief's CAS on top then fails and the torn-looking value is discarded.
 * Relaxed atomics make that race defined behaviour at no cost on x86-64
 * and AArch64. */
typedef struct green_deque_array {
    size_t mask;                            /* slot count - 1 */
    struct green_deque_array *retired_next; /* owner-only: see deque.c */
    _Atomic(void *) slot[];
} green_deque_array;

/* top and bottom grow without bound (int64_t never wraps in practice: 2^63
 * pushes at 1 ns each take 292 years).  They are signed so that the take of
 * an empty deque, which first computes bottom - 1, compares correctly
 * (the paper's size_t version needs a special case there).
 *
 * `top` is written by thieves and `bottom` by the owner, so they live on
 * separate cache lines: otherwise every steal would evict the owner's
 * bottom and every push the thieves' top (false sharing). */
#define GREEN_DEQUE_LINE 64
typedef struct green_deque {
    _Alignas(GREEN_DEQUE_LINE) atomic_int_fast64_t top;
    _Alignas(GREEN_DEQUE_LINE) atomic_int_fast64_t bottom;
    _Atomic(green_deque_array *) array;
    green_deque_array *retired;     /* owner-only list of outgrown arrays */
} green_deque;

/* green_deque_init makes *q an empty deque with room for `capacity` items
 * before it first grows (rounded up to a power of two, at least 2).
 * Returns false if out of memory (then *q must not be used). */
bool green_deque_init(green_deque *q, size_t capacity);

/* green_deque_destroy frees every array *q ever had.  Items still inside
 * are dropped (they are opaque).  No thief may be running on *q. */
void green_deque_destroy(green_deque *q);

/* green_deque_push adds `item` at the bottom (owner only).  When the array
 * is full it doubles it first: O(n) once, amortised O(1).  Returns false,
 * with the deque unchanged, only if that growth runs out of memory.
 * Never blocks; lock-free with respect to thieves. */
bool green_deque_push(green_deque *q, void *item);

/* green_deque_take removes the most recently pushed item (owner only):
 * GREEN_DEQUE_ITEM with *item_out set, or GREEN_DEQUE_EMPTY when the deque
 * is empty or a thief won the race for the last item.  Never blocks. */
green_deque_status green_deque_take(green_deque *q, void **item_out);

/* green_deque_steal removes the oldest item (any thread):
 * GREEN_DEQUE_ITEM with *item_out set, GREEN_DEQUE_EMPTY, or
 * GREEN_DEQUE_ABORT when it lost a race (see the enum).  Lock-free, never
 * blocks, never allocates. */
green_deque_status green_deque_steal(green_deque *q, void **item_out);

/* green_deque_size is a snapshot of how many items the deque holds, for
 * heuristics (e.g. choosing a victim); it can be stale the moment it
 * returns.  Any thread. */
size_t green_deque_size(green_deque *q);

#endif
