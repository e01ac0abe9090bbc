/*
 * lunatic_internal.h - what lunatic_process.c and lunatic_message.c share:
 * the per-process state with its resource tables (ABI 1.4), the movable
 * resources, messages, and the trap helper.
 *
 * Resources that may travel in messages (ABI 5.3) are one tagged value,
 * lun_res.  Today a channel end; a TCP stream or listener is one more kind
 * with its own reference-counted socket, and the same table, serialize and
 * deserialize code serves it.
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
    /* LUN_TCP_STREAM, LUN_TCP_LISTENER: later, same scheme */
    LUN_KINDS
} lun_kind;

/* One reference to a host object. */
typedef struct lun_res {
    lun_kind kind;
    green_chan *chan;           /* LUN_SENDER, LUN_RECEIVER */
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
    struct lun_proc *prev, *next;   /* the runtime's list */
} lun_proc;

struct lunatic_runtime {
    lunatic_config cfg;
    pthread_mutex_t lock;       /* guards the list */
    lun_proc *procs;
};

/* The state of the process making this host call. */
lun_proc *lun_self(const lvm_hostcall *call);

/* Report why the calling process traps (naming the function and the ABI
 * rule), and return the trap for the host function to return. */
lvm_err lun_trap(const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Tables. */
uint32_t lun_table_add(lun_table *t, lun_res r);       /* UINT32_MAX: no memory */
lun_res *lun_table_get(lun_table *t, uint32_t id);      /* NULL if unknown */
void lun_res_drop(lun_res *r);                          /* and empty it */
void lun_table_free(lun_table *t);

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
