/*
 * process.h - a wasm instance run as a green process.
 *
 * An lvm_process owns one store (its instance, memory, tables, globals),
 * one execution thread, and the green_proc the scheduler runs.  Its run
 * function is one exec_run slice: a spent reduction budget is a
 * GREEN_YIELD, a host call that waits is a GREEN_BLOCK, returning from the
 * entry function or a trap is GREEN_EXIT.  That is the whole bridge between
 * the engine (exec/) and the scheduler (green/), which know nothing of each
 * other.
 */
#ifndef LVM_PROCESS_H
#define LVM_PROCESS_H

#include "vm.h"
#include "../green/green.h"

typedef struct lvm_process {
    green_proc g;               /* first: a green_proc * is an lvm_process * */
    lvm_store *store;
    lvm_instance *inst;
    lvm_thread *thread;
    uint64_t id;                /* 1, 2, 3... in spawn order, unique in the
                                   OS process: its name in messages
                                   ("trap in process 3"); `lvm run`'s main
                                   process, spawned first, is 1 */
    lvm_func *entry;
    /* What the thread runs, in order: the start functions (of the
     * instances setup made, then of the module's own), the first function
     * (cfg->has_first), then the entry; calls[next - 1] is running. */
    lvm_func **calls;
    uint32_t ncalls, next, capcalls;
    lvm_func *calls_inline[3];  /* room for the usual few, without a malloc */
    lvm_val *entry_args;        /* the entry's arguments (a copy), or NULL */
    lvm_err result;             /* LVM_OK, or the trap that ended it */
    void *user;                 /* the embedder's (e.g. the lunatic state) */
    void *wasi;                 /* this process's WASI context (fd table...),
                                   set by whoever spawns it; see wasi/ */
    void (*on_exit)(struct lvm_process *p);
    bool release_at_exit;       /* see lvm_process_config */
    bool packed;                /* its store is packed (process.c) */
    lvm_store store_storage;    /* what `store` points at while it lives */
} lvm_process;

typedef struct lvm_process_config {
    const lvm_thread_config *thread;
    void *user;
    void *wasi;                         /* the process's WASI context: set
                                           before it can run (see wasi/) */
    void (*on_exit)(lvm_process *p);    /* called on its worker as it ends */
    /* Free the store and thread right after on_exit, not with the last
     * reference: a child that ended but is not joined yet (a burst of
     * spawns joined later) holds no memory block, so the next spawn takes
     * it warm.  p->inst, p->store and p->thread are then NULL: only for
     * processes whose owner reads nothing of them after the end. */
    bool release_at_exit;
    uint32_t memory_limit_pages;        /* 0: only the module's maximum */
    bool memory_limit_zero;             /* a limit of 0 pages, which
                                           memory_limit_pages cannot say */
    size_t entry_len;                   /* the bytes of `entry` (a wasm
                                           name may hold NUL); 0: strlen */
    bool entry_is_table_slot;           /* run table 0's element table_slot */
    uint32_t table_slot;                /* instead of the export `entry` */
    bool has_first;                     /* before the entry, run function */
    uint32_t first_func;                /* first_func of the instance (an
                                           index of the module; () -> ()),
                                           e.g. __wasm_call_ctors */
    /* Before m is instantiated: set up the new store, e.g. instantiate
     * other modules in it whose exports m imports.  Called once, by
     * lvm_process_spawn, with p->store, p->thread, p->user and p->wasi
     * set and no memory limit on the store yet (setup may set one for
     * what it makes; m's memories then get memory_limit_pages).  Returns
     * the linker for m's imports, which lvm_process_spawn frees after
     * instantiating unless it is l itself; or NULL with diag set, and the
     * spawn fails.  Setup queues the start functions of what it makes
     * with lvm_process_run_first. */
    lvm_linker *(*setup)(lvm_process *p, void *setup_arg, lvm_linker *l, lvm_diag *diag);
    void *setup_arg;
} lvm_process_config;

/* Instantiate m in a fresh store (imports through l, or through the
 * linker cfg->setup returns after making what m imports in that store;
 * its memories limited by cfg->memory_limit_pages) on the caller's thread
 * of control, and spawn a process that calls the export `entry` (or, with
 * cfg->entry_is_table_slot, the function in element table_slot of table
 * 0: how lunatic spawns a closure) with args (NULL: it takes none).
 * Before the entry the process runs, on its own thread like the entry
 * (they may yield, block and be preempted), the start functions - so a
 * start function that loops forever holds only its process, never the
 * spawner - and, with cfg->has_first, function first_func of the new
 * instance; a trap in any of them ends the process with that trap.  The spawner passes a context - a
 * first message, a channel - through cfg->user.  Detaching is releasing
 * the spawner's reference; joining is green_join on p->g.  The
 * caller receives one reference (lvm_process_release).  On failure returns
 * NULL with diag: LVM_ERR_UNKNOWN_EXPORT if there is no such function,
 * LVM_ERR_INCOMPATIBLE_IMPORT ("entry ...") if it takes parameters and
 * args is NULL or first_func is not a defined () -> () function, else
 * setup's or the instantiation's error (LVM_ERR_MEMORY_LIMIT "memory ...
 * needs N pages" for a memory over the limit).  Results, if any, are
 * left in p->thread->stack[0..] when it ends.
 * Host functions of l may live in any store that outlives the process. */
lvm_process *lvm_process_spawn(green_sched *s, lvm_module *m, lvm_linker *l,
                               const char *entry, const lvm_val *args,
                               const lvm_process_config *cfg, lvm_diag *diag);
void lvm_process_release(lvm_process *p);

/* What a spawn costs the spawner, in reductions (lvm_hostcall_charge),
 * for the host functions that spawn (both lunatic ABIs): instantiating a
 * module is a few thousand instructions, a reduction a call or a loop
 * iteration of a few to twenty.  Charged as work, a process that spawns
 * in a loop yields after some tens of children, as one that computes as
 * long would, and they run while what they touched is still in the cache
 * - and, when they end, give back their blocks to the next spawns
 * (cfg->release_at_exit).  Measured with 100,000 monitored children that
 * all exit (lunatic 0.14, one worker): about 1,000 children made per
 * slice at 1 reduction each took 0.36-0.43 s, against 0.17 s with a time
 * slice of 400.  BEAM likewise charges its costly BIFs more than one. */
#define LVM_SPAWN_REDUCTIONS 200

/* In cfg->setup: run f (() -> ()) before everything queued after it. */
lvm_err lvm_process_run_first(lvm_process *p, lvm_func *f);

/* The process running the current host call (NULL outside processes). */
static inline lvm_process *lvm_process_self(void)
{
    return (lvm_process *)green_self();
}

#endif
