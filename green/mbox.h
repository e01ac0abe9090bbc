/*
 * mbox.h - Erlang-style mailboxes and signals between green processes:
 * a FIFO of messages per process with selective receive (by tag, with a
 * timeout), links that take a group down together or turn a death into
 * a message, monitors, and kill.  The lunatic 0.14 API is built on it
 * (wasi/lunatic14_*.c); green/ knows nothing of wasm, and nothing here
 * knows what a message carries.
 *
 * An actor is the signal-handling half of a process: a green_actor
 * embedded in its owner's state, tied to the green_proc it wakes.
 * Everything that arrives - a data message, a link's death, a monitored
 * process going DOWN - is a green_msg in one queue, in the order the
 * signals were sent (so a survivor that sees a death has already seen
 * everything the dead process sent it before dying).  A kill is not
 * queued: it sets the actor's kill reason and cancels its green process
 * (green_cancel), so a blocked process ends at once and a running one at
 * the end of its slice - "at its next scheduling point", as BEAM.
 *
 * Deaths.  The owner calls green_actor_exit once, as its process ends,
 * saying whether it failed.  Then, for each link, the peer either dies
 * too (trap_links, the default: kill reason GREEN_KILL_LINK, and its own
 * exit spreads the death further) or gets a GREEN_MSG_LINK_DIED message
 * whose tag is the one the dead side stored for that link; a normal end
 * just removes the links.  Every watcher (monitor) gets GREEN_MSG_DOWN
 * with `from` = the dead actor's id, for any end.  The actor refuses
 * messages from then on (green_actor_send returns false).
 *
 * Lifetime: actors are reference counted (green_actor_retain/release),
 * because links and monitors point at peers that may end at any time;
 * the last release calls the owner's free function.
 *
 * Threads: every function may be called from any thread, except that
 * green_actor_receive must be called by the actor's own process (from its
 * run function, for the self argument).  Locks: one mutex per actor;
 * where two are needed (link, unlink) they are taken in address order.
 */
#ifndef LVM_GREEN_MBOX_H
#define LVM_GREEN_MBOX_H

#include "green.h"

typedef struct green_actor green_actor;
typedef struct green_msg green_msg;

typedef enum green_msg_kind {
    GREEN_MSG_DATA = 0,         /* the owner's (made by the sender) */
    GREEN_MSG_LINK_DIED = 1,    /* a linked actor failed (trap_links off) */
    GREEN_MSG_DOWN = 2,         /* a monitored actor ended */
} green_msg_kind;

/* A message: the owner embeds it first in its own struct for data
 * messages; LINK_DIED and DOWN messages are made by mbox.c. */
struct green_msg {
    green_msg *next;            /* the queue's link */
    uint64_t seq;               /* arrival number, set by the mailbox */
    int64_t tag;                /* 0: untagged (never matches a filter) */
    green_msg_kind kind;
    uint64_t from;              /* DOWN and LINK_DIED: the dead actor's id */
    void (*free)(green_msg *m); /* frees it (and what it carries) */
};

/* Why an actor was killed (green_actor_kill_reason). */
typedef enum green_kill {
    GREEN_KILL_NONE = 0,
    GREEN_KILL_SIGNAL = 1,      /* green_actor_kill */
    GREEN_KILL_LINK = 2,        /* a linked actor failed */
} green_kill;

/* A link as one side holds it. */
typedef struct green_link {
    green_actor *peer;          /* a reference */
    int64_t tag;
} green_link;

struct green_actor {
    green_proc *proc;           /* woken on arrival, cancelled by a kill */
    uint64_t id;                /* the owner's name for it (DOWN's `from`) */
    pthread_mutex_t lock;
    /* Under lock: */
    green_msg *head, *tail;
    uint64_t seq;               /* seq of the last message queued */
    size_t len;                 /* messages queued */
    green_waitq waiters;        /* its process, while blocked in receive */
    green_link *links;
    uint32_t nlinks, caplinks;
    green_actor **watchers;     /* actors monitoring this one (references) */
    uint32_t nwatchers, capwatchers;
    bool trap_links;            /* a linked failure kills (default true) */
    bool dead;                  /* green_actor_exit has run */
    _Atomic int kill_reason;    /* green_kill */
    _Atomic int refs;
    void (*free)(green_actor *a);   /* at the last release */
};

/* Initialize a (one reference, the caller's), tied to process p. */
void green_actor_init(green_actor *a, green_proc *p, uint64_t id, void (*free_fn)(green_actor *));
void green_actor_retain(green_actor *a);
void green_actor_release(green_actor *a);

/* Queue m at a's tail and wake a's process if it waits.  False if a has
 * exited: m is still the caller's (free it). */
bool green_actor_send(green_actor *a, green_msg *m);

/* The seq of the last message queued so far: a receive with after = that
 * value sees only messages that arrive later (request/response). */
uint64_t green_actor_seq(green_actor *a);

enum {
    GREEN_RECV_OK = 0,          /* *out is the caller's, unlinked */
    GREEN_RECV_BLOCKED = 1,     /* registered as a waiter (and, for a finite
                                   deadline, a timer): block, then retry */
    GREEN_RECV_TIMEOUT = 2,     /* deadline passed, nothing matched */
};

/* Take the oldest queued message with seq > after that matches: any
 * message if ntags == 0, else a message whose tag is nonzero and equals
 * one of tags[0..ntags).  Non-matching messages stay in place.  If none
 * matches: TIMEOUT when deadline_ns (io_now_ns clock; 0: do not wait) is
 * past, else BLOCKED with `self` (a's own process, from its run function)
 * parked until a message arrives or the deadline (UINT64_MAX: none).
 * The caller keeps the deadline and `after` across its retries. */
int green_actor_receive(green_actor *a, green_proc *self, const int64_t *tags, uint32_t ntags,
                        uint64_t after, uint64_t deadline_ns, green_msg **out);

/* Links.  green_actor_link: a keeps (b, tag_a), b keeps (a, tag_b); an
 * existing link between them is replaced.  False if b has exited (nothing
 * linked: the caller reports NoProcess, ABI 8.1).  green_actor_unlink
 * removes it on both sides (no-op if none). */
bool green_actor_link(green_actor *a, green_actor *b, int64_t tag_a, int64_t tag_b);
void green_actor_unlink(green_actor *a, green_actor *b);
/* What a linked failure does to a: die (true, the default) or a
 * LINK_DIED message (false).  Decided when the death is delivered. */
void green_actor_trap_links(green_actor *a, bool on);
/* Deliver a link death to a as if a linked actor with id `from` had
 * failed holding tag: a dies (trap_links) or gets LINK_DIED(tag).  For
 * link() to a process that does not exist (NoProcess). */
void green_actor_link_died(green_actor *a, uint64_t from, int64_t tag);

/* Monitors: watcher gets DOWN(target->id) when target ends.  False if
 * target has exited (nothing registered: the caller may send DOWN at
 * once, ABI D7).  Monitoring twice gives two DOWNs (as Erlang). */
bool green_actor_monitor(green_actor *watcher, green_actor *target);
void green_actor_demonitor(green_actor *watcher, green_actor *target);

/* A message of kind DOWN or LINK_DIED (malloc'd; NULL if out of memory),
 * for callers that must make one themselves (D7). */
green_msg *green_msg_signal(green_msg_kind kind, uint64_t from, int64_t tag);

/* Kill a: its kill reason becomes `why` (the first reason wins) and its
 * process is cancelled.  No-op once it has exited. */
void green_actor_kill(green_actor *a, green_kill why);
static inline green_kill green_actor_kill_reason(green_actor *a)
{
    return (green_kill)atomic_load_explicit(&a->kill_reason, memory_order_acquire);
}

/* a's process is ending (failed: trap, kill, non-zero exit...): deliver
 * the deaths (above), drop the links and watchers, free what is queued,
 * and refuse messages from now on.  Once; by the owner. */
void green_actor_exit(green_actor *a, bool failed);

#endif
