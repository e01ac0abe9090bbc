/*
 * chan.h - channels between green processes (see chan.c for the design).
 *
 * All calls are any-thread.  `self` is the calling process, registered as a
 * waiter when the call returns GREEN_CHAN_BLOCKED (pass NULL to only try).
 * A new channel has one sender handle and one receiver handle.
 */
#ifndef LVM_GREEN_CHAN_H
#define LVM_GREEN_CHAN_H

#include "green.h"

typedef struct green_chan green_chan;

enum {
    GREEN_CHAN_OK = 0,
    GREEN_CHAN_BLOCKED = 1,     /* registered as a waiter: block, then retry */
    GREEN_CHAN_CLOSED = 2,      /* the other side is gone (and, for receive,
                                   nothing is left to drain) */
    GREEN_CHAN_FULL = 3,        /* send: over the byte limit; registered as a
                                   waiter, as for _BLOCKED */
};

/* bound 0 = unbounded.  free_item frees items still queued when the
 * channel goes away (may be NULL). */
green_chan *green_chan_new(size_t bound, void (*free_item)(void *));
void green_chan_add_sender(green_chan *c);
void green_chan_add_receiver(green_chan *c);
void green_chan_drop_sender(green_chan *c);
void green_chan_drop_receiver(green_chan *c);

/* The owner's view of its items (chan.c, "Limits and garbage"): at most
 * max_bytes (0: no limit) of item_size queued at once (an empty queue
 * takes any item); item_receivers counts the receiver handles of c that
 * an item carries.  Both are called under the channel's lock, on items
 * that do not change while queued; either may be NULL.  Set them before
 * the first send. */
void green_chan_set_hooks(green_chan *c, size_t max_bytes, size_t (*item_size)(const void *),
                          size_t (*item_receivers)(const void *, const green_chan *));

/* Returns GREEN_CHAN_OK (item now belongs to the channel), _BLOCKED (full),
 * _FULL (over the byte limit), _CLOSED (no receivers: item still the
 * caller's) or -ENOMEM.  An item whose arrival leaves no receiver outside
 * the queue is freed with the rest of it (still OK). */
int green_chan_send(green_chan *c, green_proc *self, void *item);
/* Returns GREEN_CHAN_OK (*item_out is the caller's), _BLOCKED, _CLOSED. */
int green_chan_recv(green_chan *c, green_proc *self, void **item_out);
size_t green_chan_len(green_chan *c);
size_t green_chan_bytes(green_chan *c);     /* item_size of what is queued */

#endif
