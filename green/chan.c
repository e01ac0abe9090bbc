/*
 * chan.c - channels between green processes: multi-producer,
 * multi-consumer FIFOs of opaque items, bounded or unbounded.
 *
 * A send or receive that cannot complete registers the calling process on
 * the channel's wait queue and returns GREEN_CHAN_BLOCKED; the caller's run
 * function returns GREEN_BLOCK and, once woken, simply tries again (see
 * green.h: restartable operations).  So nothing here ever blocks a thread.
 *
 * Closing follows lunatic's rule: a channel is closed for receivers when
 * the last sender handle is gone (after the queued items are drained), and
 * closed for senders when the last receiver handle is gone.  Handles are
 * counted by the owner (green_chan_add/drop_*); the channel's memory is
 * freed when both counts reach zero.
 *
 * Limits and garbage (the hooks of green_chan_set_hooks).  A channel may
 * cap the bytes it queues: a send past the cap returns GREEN_CHAN_FULL
 * and parks the sender as a full bounded channel does (back-pressure),
 * except that a message always fits into an empty queue, so one larger
 * than the cap is delayed, never refused forever.  And the owner may
 * count, per item, the receiver handles of this same channel that the
 * item carries (lunatic moves channel ends inside messages): when every
 * receiver handle left is inside the queue (or none is left), nobody can
 * ever receive what is queued, so the queue is drained and its items
 * freed at once - which drops those receivers, and so frees the channel
 * once its senders are gone too.  Without that, a channel whose receiver
 * travels in its own queue kept itself alive forever.  What the rule
 * does not see is a cycle through two channels (each one's receiver in
 * the other's queue): that needs a collector over all channels, which
 * would have to stop every process that moves ends; rejected for now.
 *
 * One mutex per channel.  Rejected: a lock-free MPSC queue.  lunatic's
 * channels are MPMC (receivers can be moved to other processes), and an
 * uncontended mutex costs ~20 ns here, small beside the ~500 ns a message
 * round trip costs in Go or Erlang on this machine (design notes).
 */
#include "chan.h"
#include "../io/io.h"           /* io_grow_cap */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct green_chan {
    pthread_mutex_t lock;
    void **buf;                 /* ring buffer of items */
    size_t cap, head, len;
    size_t bound;               /* 0: unbounded */
    long senders, receivers;    /* live handles */
    green_waitq recv_waiters;   /* waiting for an item */
    green_waitq send_waiters;   /* waiting for room (bounded, or bytes) */
    void (*free_item)(void *);
    /* green_chan_set_hooks: */
    size_t (*item_size)(const void *item);
    size_t (*item_receivers)(const void *item, const green_chan *c);
    size_t max_bytes;           /* 0: no limit */
    size_t bytes;               /* item_size of what is queued */
    long queued_receivers;      /* receiver handles inside the queue */
};

green_chan *green_chan_new(size_t bound, void (*free_item)(void *))
{
    /* Not calloc, which bypasses glibc's per-thread cache (a channel is
     * made on every spawn; see lvm_xcalloc in vm/base.c). */
    green_chan *c = malloc(sizeof *c);
    __asm__("" : "+r"(c));      /* or gcc folds this back into calloc */
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->cap = bound ? bound : 8;
    c->buf = malloc(c->cap * sizeof *c->buf);
    if (!c->buf) {
        free(c);
        return NULL;
    }
    c->bound = bound;
    c->senders = 1;
    c->receivers = 1;
    c->free_item = free_item;
    pthread_mutex_init(&c->lock, NULL);
    green_waitq_init(&c->recv_waiters, &c->lock);
    green_waitq_init(&c->send_waiters, &c->lock);
    return c;
}

static void chan_free(green_chan *c)
{
    for (size_t i = 0; i < c->len; i++) {
        void *item = c->buf[(c->head + i) % c->cap];
        if (c->free_item)
            c->free_item(item);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->buf);
    free(c);
}

void green_chan_set_hooks(green_chan *c, size_t max_bytes, size_t (*item_size)(const void *),
                          size_t (*item_receivers)(const void *, const green_chan *))
{
    pthread_mutex_lock(&c->lock);
    c->max_bytes = max_bytes;
    c->item_size = item_size;
    c->item_receivers = item_receivers;
    pthread_mutex_unlock(&c->lock);
}

/* Called with c->lock held, and unlocks it.  If no receiver handle is
 * left outside the queue, nothing queued can ever be received: take the
 * items out and free them (after unlocking: freeing an item may drop
 * handles of this channel, and so free it - c is not touched after). */
static void unlock_and_collect(green_chan *c)
{
    if (c->len == 0 || c->receivers > c->queued_receivers) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    void **buf = c->buf;
    size_t cap = c->cap, head = c->head, len = c->len;
    c->buf = NULL;              /* receivers only go down from here: */
    c->cap = c->head = c->len = 0;  /* nothing is queued again */
    c->bytes = 0;
    c->queued_receivers = 0;
    green_waitq_wake_all(&c->send_waiters);
    void (*free_item)(void *) = c->free_item;
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < len; i++)
        if (free_item)
            free_item(buf[(head + i) % cap]);
    free(buf);
}

/* Adjust a handle count; frees the channel when both reach zero. */
static void handles(green_chan *c, long dsend, long drecv)
{
    pthread_mutex_lock(&c->lock);
    c->senders += dsend;
    c->receivers += drecv;
    bool gone = c->senders == 0 && c->receivers == 0;
    /* A side that just closed releases everyone waiting on the other. */
    if (dsend < 0 && c->senders == 0)
        green_waitq_wake_all(&c->recv_waiters);
    if (drecv < 0 && c->receivers == 0)
        green_waitq_wake_all(&c->send_waiters);
    if (gone) {
        pthread_mutex_unlock(&c->lock);
        chan_free(c);
    } else if (drecv < 0) {
        unlock_and_collect(c);
    } else {
        pthread_mutex_unlock(&c->lock);
    }
}

void green_chan_add_sender(green_chan *c) { handles(c, 1, 0); }
void green_chan_add_receiver(green_chan *c) { handles(c, 0, 1); }
void green_chan_drop_sender(green_chan *c) { handles(c, -1, 0); }
void green_chan_drop_receiver(green_chan *c) { handles(c, 0, -1); }

static bool grow(green_chan *c)
{
    size_t cap = io_grow_cap(c->cap, c->len + 1, 8, sizeof *c->buf, SIZE_MAX);
    void **buf = cap ? malloc(cap * sizeof *buf) : NULL;
    if (!buf)
        return false;
    for (size_t i = 0; i < c->len; i++)
        buf[i] = c->buf[(c->head + i) % c->cap];
    free(c->buf);
    c->buf = buf;
    c->cap = cap;
    c->head = 0;
    return true;
}

int green_chan_send(green_chan *c, green_proc *self, void *item)
{
    pthread_mutex_lock(&c->lock);
    if (c->receivers == 0) {
        pthread_mutex_unlock(&c->lock);
        return GREEN_CHAN_CLOSED;
    }
    if (c->bound && c->len == c->bound) {
        if (self)
            green_waitq_push(&c->send_waiters, self);
        pthread_mutex_unlock(&c->lock);
        return GREEN_CHAN_BLOCKED;
    }
    size_t size = c->item_size ? c->item_size(item) : 0;
    if (c->max_bytes && c->len > 0 && (c->bytes >= c->max_bytes || size > c->max_bytes - c->bytes)) {
        if (self)
            green_waitq_push(&c->send_waiters, self);
        pthread_mutex_unlock(&c->lock);
        return GREEN_CHAN_FULL;
    }
    if (c->len == c->cap && !grow(c)) {
        pthread_mutex_unlock(&c->lock);
        return -ENOMEM;
    }
    c->buf[(c->head + c->len) % c->cap] = item;
    c->len++;
    c->bytes += size;           /* fits: checked above, or the queue was empty */
    if (c->item_receivers)
        c->queued_receivers += (long)c->item_receivers(item, c);
    green_proc *r = green_waitq_pop(&c->recv_waiters);
    /* The item may carry the last receiver held outside (its holder
     * serialized it, then closed its own). */
    unlock_and_collect(c);
    if (r)
        green_wake(r);
    return GREEN_CHAN_OK;
}

int green_chan_recv(green_chan *c, green_proc *self, void **item_out)
{
    pthread_mutex_lock(&c->lock);
    if (c->len == 0) {
        int ret = GREEN_CHAN_CLOSED;
        if (c->senders > 0) {
            if (self)
                green_waitq_push(&c->recv_waiters, self);
            ret = GREEN_CHAN_BLOCKED;
        }
        pthread_mutex_unlock(&c->lock);
        return ret;
    }
    *item_out = c->buf[c->head];
    c->head = (c->head + 1) % c->cap;
    c->len--;
    c->bytes -= c->item_size ? c->item_size(*item_out) : 0;
    if (c->item_receivers)
        c->queued_receivers -= (long)c->item_receivers(*item_out, c);
    green_proc *s = c->bound || c->max_bytes ? green_waitq_pop(&c->send_waiters) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (s)
        green_wake(s);
    return GREEN_CHAN_OK;
}

size_t green_chan_bytes(green_chan *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t green_chan_len(green_chan *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->len;
    pthread_mutex_unlock(&c->lock);
    return n;
}
