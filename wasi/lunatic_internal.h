/*
 * lunatic_internal.h - what the lunatic_*.c files share: the per-process
 * state with its resource tables (ABI 1.4), the movable resources,
 * messages, and the trap helper.
 *
 * Resources that may travel in messages (ABI 5.3) are one tagged value,
 * lun_res: a channel end, or a TCP stream or listener (a reference to a
 * reference-counted socket, lunatic_net.c).  The same table, serialize
 * and deserialize code serves every kind.
 *
 * Threads: a process's tables are touched only by its own host calls and
 * by its on_exit hook, both on the worker running that process, so they
 * need no lock.  The runtime's list of all states has one.
 */
#ifndef LVM_LUNATIC_INTERNAL_H
#define LVM_LUNATIC_INTERNAL_H

#include "internal.h"
#include "lunatic.h"
#include "chan.h"

#include <pthread.h>

typedef enum lun_kind {
    LUN_NONE = 0,               /* an empty slot (closed, or taken) */
    LUN_SENDER,
    LUN_RECEIVER,
    LUN_TCP_STREAM,
    LUN_TCP_LISTENER,
    LUN_KINDS
} lun_kind;

/* A socket shared by every reference to it (lunatic_net.c). */
typedef struct lun_sock lun_sock;

/* One reference to a host object. */
typedef struct lun_res {
    lun_kind kind;
    green_chan *chan;           /* LUN_SENDER, LUN_RECEIVER */
    lun_sock *sock;             /* LUN_TCP_STREAM, LUN_TCP_LISTENER */
} lun_res;

/* A table of resources of one kind: ids are indices, from 0, never
 * reused (ABI 1.4), so a closed id stays an empty slot. */
typedef struct lun_table {
    lun_res *slots;
    uint32_t len, cap;
} lun_table;

/* A message: opaque bytes plus the resources that travel beside them. */
typedef struct lun_msg {
    uint8_t *bytes;
    uint32_t len;
    uint32_t nres;
    lun_res *res;
} lun_msg;

/* A child handle in the process table. */
typedef struct lun_child {
    lvm_process *p;             /* our reference; NULL: empty slot */
    bool failed;                /* spawning failed: join gives 1 */
    bool used;
} lun_child;

typedef struct lun_proc {
    lunatic_runtime *rt;
    wasi_ctx *wasi;             /* a child's own context (NULL: main's,
                                   which the embedder owns) */
    void *data;                 /* the embedder's (main process only) */
    lun_child *children;
    uint32_t nchildren, capchildren;
    lun_table senders, receivers;
    lun_res *pending;           /* serialize list (ABI 5.3) */
    uint32_t npending, cappending;
    lun_msg *last;              /* last received message */
    bool yielded;               /* yield_: the retry after the yield */
    bool sleeping;              /* sleep_ms: waiting for sleep_until */
    uint64_t sleep_until;       /* monotonic ns */
    /* ABI 6, networking (lunatic_net.c).  Ids of the three tables are
     * independent; resolvers never travel.  `connecting` and `dns` are
     * the state a blocked tcp_connect or resolve keeps for its retry;
     * lun_net_cleanup releases all of it. */
    lun_table tcp_streams, tcp_listeners;
    struct lun_resolver **resolvers;    /* NULL: removed */
    uint32_t nresolvers, capresolvers;
    struct lun_connect *connecting;     /* tcp_connect in progress */
    struct lun_dns_job *dns;            /* resolve waiting for the pool */
    /* ABI 7, module loading (lunatic_module.c): ids index the arrays;
     * an unloaded module or removed import leaves a NULL / empty slot.
     * Each entry holds a reference to its module. */
    lvm_module **modules;
    uint32_t nmodules, capmodules;
    struct lun_import *imports;
    uint32_t nimports, capimports;
    struct lun_proc *prev, *next;   /* the runtime's list */
} lun_proc;

struct lunatic_runtime {
    lunatic_config cfg;
    pthread_mutex_t lock;       /* guards the list */
    lun_proc *procs;
    /* Children spawned and not yet ended, against cfg.max_processes
     * (lunatic_process.c); and whether the limit was reported yet (once
     * per run, not once per refused spawn). */
    _Atomic long nchildren;
    _Atomic bool told_max_processes;
    /* Children that failed to start, as told on stderr (the first
     * LUN_TOLD_FAILURES of them, then one line saying the rest are not). */
    _Atomic uint32_t told_failures;
};

#define LUN_TOLD_FAILURES 10

/* The option behind a spawn's error, for its message: " (--max-memory)",
 * " (--max-total-memory)" or "". */
const char *lun_limit_option(lvm_err err);

/* Tell stderr why a child failed to start ("lvm: lunatic.FN: the child
 * failed to start: ..."), unless LUN_TOLD_FAILURES were told already: a
 * guest that spawns in a loop must not fill stderr. */
void lun_tell_failure(lunatic_runtime *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The state of the process making this host call. */
lun_proc *lun_self(const lvm_hostcall *call);

/* Children (lunatic_process.c), for spawn_with_context and
 * spawn_from_module.  First lun_child_reserve: room for one more handle
 * in lp's process table (false: out of memory), before any side effect.
 * Then lun_child_state: the fresh state of a child (NULL: out of memory).
 * Then lun_child_spawn: spawn process pc of module m (imports through l,
 * entry as lvm_process_spawn takes it) with state cp and a WASI context
 * of its own, derived from the caller's by `grant` (NULL: everything the
 * caller holds now; see wasi_ctx_child); pc's thread, user, wasi and
 * on_exit are filled in.  Returns
 * the new handle.  If the child could not start, cp is freed, diag says
 * why, and the handle is a failed child, whose join gives 1 (ABI 4.3
 * step 4): never an error of the spawning call. */
bool lun_child_reserve(lun_proc *lp);
lun_proc *lun_child_state(lunatic_runtime *rt);
uint32_t lun_child_spawn(lun_proc *lp, lun_proc *cp, lvm_module *m, lvm_linker *l,
                         const char *entry, const wasi_grant *grant, lvm_process_config *pc,
                         lvm_diag *diag);

/* The WASI context of process lp (a child's own, or the main process's),
 * whose capabilities its host calls are checked against. */
static inline wasi_ctx *lun_wasi(const lun_proc *lp)
{
    return lp->wasi ? lp->wasi : lp->rt->cfg.wasi;
}

/* The opening of every host function: lp, the calling process's state,
 * or a trap if the call comes from outside a process (a start function
 * running during instantiation). */
#define LUN_SELF(fn)                                                   \
    lun_proc *lp = lun_self(call);                                     \
    if (!lp)                                                           \
        return lun_trap(fn, "called outside a process")

/* Drop the caller's entry `ar[0]` of the table of `kind`; unknown ids are
 * ignored (close_sender, close_receiver, close_tcp_*; ABI 1.2). */
lvm_err lun_close(lvm_hostcall *call, lvm_val *ar, lun_kind kind, const char *fn);

/* Report why the calling process traps (naming the function and the ABI
 * rule), and return the trap for the host function to return. */
lvm_err lun_trap(const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Room for entry n of an array v of `size`-byte entries with *cap of them
 * (doubling, from 4): returns the array, moved or not, or NULL (v is then
 * unchanged) when out of memory.  Every per-process table grows so. */
void *lun_grow(void *v, uint32_t n, uint32_t *cap, size_t size);

/* Tables. */
uint32_t lun_table_add(lun_table *t, lun_res r);       /* UINT32_MAX: no memory */
lun_res *lun_table_get(lun_table *t, uint32_t id);      /* NULL if unknown */
void lun_res_drop(lun_res *r);                          /* and empty it */
void lun_table_free(lun_table *t);
/* The caller's table of movable resources of that kind. */
lun_table *lun_table_of(lun_proc *lp, lun_kind kind);

/* The host functions X_serialize(id) -> index and X_deserialize(index)
 * -> id for every movable kind (ABI 5.3; traps as D5 says). */
lvm_err lun_serialize(lvm_hostcall *call, lvm_val *ar, lun_kind kind, const char *fn);
lvm_err lun_deserialize(lvm_hostcall *call, lvm_val *ar, lun_kind kind, const char *fn);

/* Sockets (lunatic_net.c): one more reference, or one fewer (the last
 * closes it). */
void lun_sock_retain(lun_sock *s);
void lun_sock_release(lun_sock *s);

/* A channel of the lunatic API: messages as items, with the runtime's
 * limit on the bytes it queues (--max-queued). */
green_chan *lun_chan_new(lunatic_runtime *rt, size_t bound);
lun_msg *lun_msg_new(lun_proc *lp, const uint8_t *bytes, uint32_t len);
void lun_msg_free(void *msg);                           /* drops its resources */
/* Give back the pending list a failed (blocked) send had taken. */
void lun_msg_unsend(lun_proc *lp, lun_msg *m);

/* Drop everything each part owns in lp (ABI 2.5). */
void lun_message_cleanup(lun_proc *lp);     /* lunatic_message.c */
void lun_net_cleanup(lun_proc *lp);         /* lunatic_net.c */
void lun_module_cleanup(lun_proc *lp);      /* lunatic_module.c */

/* The host functions of each part, NULL-terminated. */
extern const wasi_import lun_process_imports[];   /* ABI 4: lunatic_process.c */
extern const wasi_import lun_message_imports[];   /* ABI 5: lunatic_message.c */
extern const wasi_import lun_net_imports[];       /* ABI 6: lunatic_net.c */
extern const wasi_import lun_module_imports[];    /* ABI 7: lunatic_module.c */

#endif
