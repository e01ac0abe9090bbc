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
 * One mutex per channel.  Rejected: a lock-free MPSC queue.  lunatic's
 * channels are MPMC (receivers can be moved to other processes), and an
 * uncontended mutex costs ~20 ns here, small beside the ~500 ns a message
 * round trip costs in Go or Erlang on this machine (design notes).
 */
#include "chan.h"

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
    green_waitq send_waiters;   /* waiting for room (bounded only) */
    void (*free_item)(void *);
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
    pthread_mutex_unlock(&c->lock);
    if (gone)
        chan_free(c);
}

void green_chan_add_sender(green_chan *c) { handles(c, 1, 0); }
void green_chan_add_receiver(green_chan *c) { handles(c, 0, 1); }
void green_chan_drop_sender(green_chan *c) { handles(c, -1, 0); }
void green_chan_drop_receiver(green_chan *c) { handles(c, 0, -1); }

static bool grow(green_chan *c)
{
    size_t cap = c->cap * 2;
    void **buf = malloc(cap * sizeof *buf);
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
    if (c->len == c->cap && !grow(c)) {
        pthread_mutex_unlock(&c->lock);
        return -ENOMEM;
    }
    c->buf[(c->head + c->len) % c->cap] = item;
    c->len++;
    green_proc *r = green_waitq_pop(&c->recv_waiters);
    pthread_mutex_unlock(&c->lock);
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
    green_proc *s = c->bound ? green_waitq_pop(&c->send_waiters) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (s)
        green_wake(s);
    return GREEN_CHAN_OK;
}

size_t green_chan_len(green_chan *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->len;
    pthread_mutex_unlock(&c->lock);
    return n;
}
