/*
 * lunatic14.h - the host side of the lunatic 0.14 guest API (the import
 * modules `lunatic::process`, `lunatic::message`, ... of crate 0.14.1):
 * processes with mailboxes, links, monitors and kill (green/mbox.h),
 * configs that are a process's whole set of permissions and limits, a
 * registry, timers, trap::catch, networking, and the single-node answers
 * of `lunatic::distributed`.  The contract is the project's ABI note
 * (lunatic 0.14, decisions D-A..D18).
 *
 * Where it sits: beside the 0.3 API (lunatic.h).  A module gets one ABI
 * or the other, decided from its imports (lunatic_abi_of, ABI D-A); the
 * embedder (`lvm run`) defines only that ABI's functions in the linker,
 * so a 0.3 function can never be called by a 0.14 process or the
 * reverse.  Both ABIs share the green machinery and WASI.
 *
 * Environments (ABI 1.6): process ids count from 1 in each environment,
 * and the registry is per environment.  `lvm run` has one; the test mode
 * (cli/testmode.c, ABI 13) makes a fresh one for every test.
 */
#ifndef LVM_LUNATIC14_H
#define LVM_LUNATIC14_H

#include "lvm.h"
#include "process.h"
#include "wasi.h"

typedef enum lunatic_abi {
    LUNATIC_ABI_NONE = 0,       /* plain WASI: run as 0.14 (D-A) */
    LUNATIC_ABI_03 = 3,         /* imports from `lunatic` */
    LUNATIC_ABI_14 = 14,        /* imports from `lunatic::...` */
    LUNATIC_ABI_MIXED = -1,     /* both: refused */
} lunatic_abi;

/* Which ABI module m speaks, from its import section (ABI D-A). */
lunatic_abi lunatic_abi_of(const lvm_module *m);

typedef struct l14_runtime l14_runtime;
typedef struct l14_env l14_env;

typedef struct lunatic14_config {
    green_sched *sched;             /* where processes run */
    lvm_module *module;             /* the program's module */
    lvm_linker *linker;             /* WASI + these functions */
    const lvm_thread_config *thread;/* per process; NULL: defaults */
    uint32_t memory_limit_pages;    /* --max-memory, a cap on every
                                       config's max_memory; 0: none */
    uint32_t max_processes;         /* alive at once; 0: the 0.3 default */
    bool verbose;                   /* log failing processes (ABI 3.3) */
} lunatic14_config;

/* Create the runtime and define its host functions in l (in store s,
 * which must outlive every process).  NULL when out of memory. */
l14_runtime *lunatic14_define(const lunatic14_config *cfg, lvm_store *s, lvm_linker *l);
/* Free the runtime and the state of every process that never ended.
 * Call after the scheduler has stopped. */
void lunatic14_free(l14_runtime *rt);

/* A new environment (its own process ids and registry), with one
 * reference; lunatic14_env_release drops it. */
l14_env *lunatic14_env_new(l14_runtime *rt);
void lunatic14_env_release(l14_env *env);

/* How a root process ended (lunatic14_spawn_root's on_end). */
typedef struct lunatic14_end {
    lvm_err result;                 /* LVM_OK; LVM_ERR_TRAP_EXIT with
                                       exit_code; a trap, LVM_ERR_TRAP_FUEL,
                                       LVM_ERR_TRAP_KILLED (kill, link) */
    bool has_exit_code;
    uint32_t exit_code;             /* proc_exit's argument */
    bool failed;                    /* as links see it (ABI 3.3) */
    char reason[256];               /* the failure in words */
} lunatic14_end;

/* Spawn a root process in env: export `entry` (() -> ()) of the program's
 * module, with the root config (every permission, ABI 3.1: max_memory
 * 4 GiB capped by memory_limit_pages, no fuel limit) and WASI context
 * ctx, which the process uses but does not own (it must outlive it).
 * on_end(p, end, arg) is called on its worker as it ends, after its
 * links and monitors were told.  Returns the process (one reference, for
 * the caller: lvm_process_release) or NULL with diag. */
lvm_process *lunatic14_spawn_root(l14_runtime *rt, l14_env *env, const char *entry, wasi_ctx *ctx,
                                  void (*on_end)(lvm_process *p, const lunatic14_end *end, void *arg),
                                  void *arg, lvm_diag *diag);

/* The process id of a 0.14 process in its environment. */
uint64_t lunatic14_pid(const lvm_process *p);

#endif
