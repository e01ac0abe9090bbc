/*
 * lunatic14_internal.h - what the lunatic14_*.c files share: the
 * per-process state (l14_proc) with its resource tables (ABI 1.5), the
 * environment (process ids, registry), configs, messages, error
 * resources and the trap helper.
 *
 * Files:
 *   lunatic14_process.c  spawn, configs, links, monitors, kill, the
 *                        process state and its end; lunatic14_define
 *   lunatic14_message.c  the scratch message, send, receive, request/reply
 *   lunatic14_config.c   configs (process::*config*, compile_module,
 *                        drop_module) and lunatic::wasi
 *   lunatic14_misc.c     error, registry, timer, version, metrics,
 *                        distributed (node 0), trap::catch, and the
 *                        SQLite functions lvm does not have (D-B)
 *   lunatic14_net.c      networking: DNS, TCP, UDP (and TLS's D-B stubs)
 *
 * Threads: a process's tables are touched only by its own host calls and
 * by its end (on_exit), both on the worker running it: no lock.  What
 * other processes reach - its mailbox and links (green_actor), the
 * environment's maps - has its own lock.
 */
#ifndef LVM_LUNATIC14_INTERNAL_H
#define LVM_LUNATIC14_INTERNAL_H

#include "internal.h"
#include "lunatic14.h"
#include "mbox.h"

#include <pthread.h>

/* ABI 3.4: status codes. */
#define L14_OK 0
#define L14_ERROR 1
#define L14_TIMEOUT 9027


/* ABI D-D: one fuel unit is this many reductions. */
#define L14_REDUCTIONS_PER_FUEL 10000

/* {====== resource tables (ABI 1.5)
 *
 * One per kind and process: u64 ids from a counter that starts at 0 and
 * never goes back (ids are not reused), mapped to a pointer by an open
 * addressing hash table (a plain array indexed by id would grow forever
 * under a loop that makes and drops errors).  The table stores pointers
 * only; what they point at is the kind's business. */
typedef struct l14_table {
    uint64_t next;              /* the next id handed out */
    struct l14_slot { uint64_t id; void *v; } *slots;   /* v NULL: free */
    uint32_t cap, n;            /* cap: 0 or a power of two */
} l14_table;

/* Add v (non-NULL): its id, or UINT64_MAX when out of memory. */
uint64_t l14_table_add(l14_table *t, void *v);
void *l14_table_get(const l14_table *t, uint64_t id);     /* NULL: unknown */
void *l14_table_take(l14_table *t, uint64_t id);          /* and remove */
/* Remove and pass every entry to drop (may be NULL), then free. */
void l14_table_free(l14_table *t, void (*drop)(void *v));

/* }====== */

/* {====== configs (ABI 9)
 *
 * A config is a capability set plus limits: what a process spawned from
 * it may do.  A process's own config is never changed, so a child
 * spawned with config -1 shares its parent's (a reference, no copy: a
 * spawn costs no allocation for it) and sees the parent's WASI view as
 * it is now (wasi_ctx_child); a child of a config from the table gets a
 * copy, and sees exactly its lists. */
typedef struct l14_config {
    uint64_t max_memory;        /* bytes */
    uint64_t max_fuel;          /* units (D-D); 0: unlimited */
    bool can_compile, can_create_configs, can_spawn;
    _Atomic int refs;
    char **args;                /* exact argv (nothing implicit) */
    uint32_t nargs, capargs;
    char **envs;                /* "KEY=VALUE" */
    uint32_t nenvs, capenvs;
    char **preopens;            /* guest name = host path (ABI 9.4) */
    uint32_t npreopens, cappreopens;
} l14_config;

#define L14_ROOT_MAX_MEMORY ((uint64_t)UINT32_MAX)   /* ABI 3.1: 4 GiB */

l14_config *l14_config_new(void);                    /* everything denied */
l14_config *l14_config_copy(const l14_config *c);    /* NULL: no memory */
l14_config *l14_config_retain(l14_config *c);
void l14_config_free(void *c);                       /* a release */

/* }====== */

/* {====== messages (ABI 6)
 *
 * A data message: a green_msg (first) plus a byte buffer with a read
 * position and the resources that travel beside the bytes.  A resource
 * slot holds one reference, of a kind that knows how to drop it. */
typedef enum l14_res_kind {
    L14_RES_NONE = 0,           /* empty (taken) */
    L14_RES_MODULE,             /* lvm_module * */
    L14_RES_TCP_STREAM,         /* lunatic14_net.c's stream */
    L14_RES_UDP_SOCKET,         /* lunatic14_net.c's socket */
} l14_res_kind;

typedef struct l14_res {
    l14_res_kind kind;
    void *obj;
} l14_res;

void l14_res_drop(l14_res *r);      /* drop the reference and empty it */

typedef struct l14_msg {
    green_msg g;                /* g.kind GREEN_MSG_DATA; first */
    uint8_t *data;
    uint64_t len, cap, pos;
    l14_res *res;
    uint32_t nres, capres;
} l14_msg;

/* A new data message with tag (0: none) and room for `capacity` bytes
 * (a hint, capped); NULL when out of memory. */
l14_msg *l14_msg_new(int64_t tag, uint64_t capacity);
/* Any green_msg: data or signal (its g.free). */
void l14_msg_free(green_msg *m);

/* }====== */

/* {====== environments (ABI 1.6, 8.6) */

struct l14_env {
    l14_runtime *rt;
    _Atomic int refs;
    uint64_t id;                /* process::environment_id */
    /* pid_lock guards the pids.  Separate from `lock`, because
     * get_or_spawn holds the registry for the whole spawn, which adds
     * the child's pid. */
    pthread_mutex_t pid_lock;
    uint64_t next_pid;          /* from 1 */
    /* pid -> live process (each entry holds a reference on its actor);
     * lunatic14_process.c's own hash table */
    struct l14_pid_slot { uint64_t pid; struct l14_proc *lp; } *pids;
    uint32_t pidcap, npids;
    /* lock guards the registry: name -> (node, pid); entries stay when
     * the process ends (ABI 8.6) */
    pthread_mutex_t lock;
    struct l14_name { char *name; uint32_t len; uint64_t node, pid; } *names;
    uint32_t nnames, capnames;
};

/* The live process pid of env, with a reference on its actor
 * (green_actor_release), or NULL. */
struct l14_proc *l14_env_find(l14_env *env, uint64_t pid);

/* }====== */

/* {====== the per-process state */

/* A blocking call in progress (its restart keeps what it computed). */
typedef enum l14_wait {
    L14_WAIT_NONE = 0,
    L14_WAIT_RECEIVE,           /* receive / send_receive_skip_search */
    L14_WAIT_SLEEP,
    L14_WAIT_NET,               /* lunatic14_net.c's; see net_wait */
} l14_wait;

typedef struct l14_proc {
    green_actor actor;          /* first: mailbox, links, monitors; its
                                   id is the pid, its free frees this */
    l14_runtime *rt;
    l14_env *env;               /* a reference */
    lvm_process *p;             /* NULL once it has ended */
    wasi_ctx *wasi;             /* its own context (NULL: a root process,
                                   whose context the embedder owns) */
    wasi_ctx *root_wasi;        /* the root's context, not owned */
    l14_config *config;         /* its own: what it may do */
    lvm_module *module;         /* what it runs (a reference) */
    green_msg *scratch;         /* ABI 6.1, NULL: empty; a data message
                                   (an l14_msg) or a LinkDied/ProcessDied */
    /* Resource tables (ABI 1.5). */
    l14_table configs, modules, errors, timers;
    l14_table dns, tcp_listeners, tcp_streams, udp_sockets;
    /* The blocking call in progress (its retry finds its state here). */
    l14_wait wait;
    uint64_t deadline;          /* io_now_ns clock; UINT64_MAX: none */
    uint64_t after;             /* send_receive_skip_search: seq */
    struct l14_net_wait *net;   /* lunatic14_net.c's, for L14_WAIT_NET */
    /* How it ends (lunatic14_spawn_root's on_end); NULL for children. */
    void (*on_end)(lvm_process *p, const lunatic14_end *end, void *arg);
    void *on_end_arg;
    bool ended;
} l14_proc;

struct l14_runtime {
    lunatic14_config cfg;
    _Atomic long nprocs;        /* alive, against cfg.max_processes */
    _Atomic uint64_t next_env;  /* environment ids */
    _Atomic bool told_max_processes;
};

/* The state of the process making this host call, or NULL if the call
 * does not come from a 0.14 process's own thread (a start function
 * running during instantiation: ABI 7.1). */
l14_proc *l14_self(const lvm_hostcall *call);

/* The opening of every host function that needs the process. */
#define L14_SELF(fn)                                                   \
    l14_proc *lp = l14_self(call);                                     \
    if (!lp)                                                           \
        return l14_trap(fn, "called outside a process")

/* Trap the calling process (ABI 1.3): print `lvm: lunatic::MOD::NAME:
 * TEXT` to stderr (fn is "process::spawn" etc.) and return the trap for
 * the host function to return. */
lvm_err l14_trap(const char *fn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with the runtime's "Trap raised during host call" wording for
 * a bad guest range (what: "memory access", ...). */
lvm_err l14_trap_mem(const char *fn);

/* D-B: trap with `lvm: lunatic::FN is not supported (no SQLite/TLS in
 * lvm)` (fn is "sqlite::execute" ...); l14_unsupported_text gives the
 * text, for the functions that return it as an error instead. */
lvm_err l14_unsupported(const char *fn);
const char *l14_unsupported_text(const char *fn, char *buf, size_t size);

/* Error resources (ABI 1.4, 5): a new error with this text in lp's
 * table; returns its id (UINT64_MAX: out of memory, which the caller
 * turns into a trap).  l14_error_os formats errno as Rust does:
 * "<strerror> (os error N)". */
uint64_t l14_error_new(l14_proc *lp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t l14_error_os(l14_proc *lp, int err);

/* Guest strings: check [ptr, ptr+len) and UTF-8; on success *out points
 * into guest memory (not terminated).  False: the caller traps. */
bool l14_guest_str(const wasi_mem *m, uint32_t ptr, uint32_t len, const char **out);

/* Each part's cleanup, when lp ends (frees its tables' contents). */
void l14_message_cleanup(l14_proc *lp);
void l14_net_cleanup(l14_proc *lp);
void l14_misc_cleanup(l14_proc *lp);

/* Resources that travel (lunatic14_net.c): one more reference / one fewer. */
void l14_tcp_retain(void *stream);
void l14_tcp_release(void *stream);
void l14_udp_retain(void *sock);
void l14_udp_release(void *sock);

/* The host functions of each part: {module, name, type, fn}, NULL-ended. */
typedef struct l14_import {
    const char *module;         /* "lunatic::process" ... */
    const char *name;
    const char *type;           /* lvm_func_new_host's notation */
    lvm_host_fn fn;
} l14_import;

extern const l14_import l14_process_imports[];
extern const l14_import l14_message_imports[];
extern const l14_import l14_misc_imports[];
extern const l14_import l14_net_imports[];

/* Spawn for process::spawn, get_or_spawn and distributed::spawn: all the
 * checks of ABI 7.1 in order (traps as it says), then a child.  Returns
 * LVM_OK with *status 0 and *id the child's pid, or *status 1 and *id an
 * error id; or a trap.  With `name` (get_or_spawn) the child is
 * registered under it before it can run. */
lvm_err l14_spawn(lvm_hostcall *call, l14_proc *lp, const char *fn, int64_t link,
                  int64_t config_id, int64_t module_id, uint32_t func, uint32_t func_len,
                  uint32_t params, uint32_t params_len, uint32_t *status, uint64_t *id);

/* The registry (lunatic14_misc.c), under env->lock, which the caller
 * holds: find a name (true, with node and pid), or set it. */
bool l14_registry_find(l14_env *env, const char *name, uint32_t len, uint64_t *node, uint64_t *pid);
bool l14_registry_put(l14_env *env, const char *name, uint32_t len, uint64_t node, uint64_t pid);

/* Send m to pid in lp's environment (ABI 6.1: dropped if pid is gone). */
void l14_deliver(l14_env *env, uint64_t pid, green_msg *m);

/* message::send and message::send_receive_skip_search, for
 * distributed's node-0 versions (lunatic14_message.c): ar are the
 * message functions' own arguments (pid; pid, tag, timeout) and results. */
lvm_err l14_message_send(lvm_hostcall *call, lvm_val *ar);
lvm_err l14_message_send_receive(lvm_hostcall *call, lvm_val *ar);
/* Take the scratch message out of the slot (NULL: empty), for
 * timer::send_after. */
green_msg *l14_scratch_take(l14_proc *lp);

/* The modules table holds lvm_module references; compile_module and
 * take_module add, drop_module and the end release (lunatic14_config.c
 * and lunatic14_message.c).  The configs table holds l14_config. */

/* }====== */

#endif
