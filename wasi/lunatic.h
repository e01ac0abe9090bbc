/*
 * lunatic.h - the host side of the lunatic 0.3 guest API (import module
 * "lunatic"): green processes that spawn, join and cancel each other, and
 * channels that carry bytes plus host resources between them.  The
 * contract is the ABI note of the project (lunatic 0.3, decisions D1-D18).
 *
 * Where it sits: the embedder (`lvm run`) makes one lunatic_runtime for
 * the program, next to the WASI context of its main process, and
 * registers the host functions in the same linker as WASI.  Children are
 * fresh instances of the same module, linked through the same linker,
 * each with its own WASI descriptor table and never more capabilities
 * than its parent holds at the spawn (wasi_ctx_child, wasi/caps.c).
 *
 * Per-process state (the resource tables of ABI 1.4) hangs off the
 * process's `user` slot.  The main process is created by the embedder, so
 * the embedder asks for its state with lunatic_main_state and must call
 * lunatic_process_exited from its on_exit hook; children are handled here.
 */
#ifndef LVM_LUNATIC_H
#define LVM_LUNATIC_H

#include "lvm.h"
#include "process.h"
#include "wasi.h"

/* The import module name of every function registered here. */
#define LUNATIC_MODULE "lunatic"

typedef struct lunatic_runtime lunatic_runtime;

typedef struct lunatic_config {
    green_sched *sched;             /* where children run */
    lvm_module *module;             /* what children instantiate */
    lvm_linker *linker;             /* how their imports resolve */
    wasi_ctx *wasi;                 /* the main process's context */
    const lvm_thread_config *thread;/* per child; NULL: defaults */
    uint32_t memory_limit_pages;    /* per child; 0: none */
    const char *memory_limit_option;/* what set it, for messages ("--max-memory"); NULL: none named */
    /* Limits (README, "Limits"): processes alive at once, main included
     * (0: LUNATIC_MAX_PROCESSES), and bytes queued in one channel (0:
     * LUNATIC_MAX_QUEUED); the options that set them, for messages. */
    uint32_t max_processes;
    size_t max_queued_bytes;
    const char *max_processes_option, *max_queued_option;
} lunatic_config;

#define LUNATIC_MAX_PROCESSES 1048576u
#define LUNATIC_MAX_QUEUED ((size_t)64 << 20)

/* Create the runtime and define its host functions in l (in store s,
 * which must outlive every process).  NULL when out of memory. */
lunatic_runtime *lunatic_define(const lunatic_config *cfg, lvm_store *s, lvm_linker *l);

/* The state to pass as the main process's `user`; `data` is the
 * embedder's own pointer, returned by lunatic_user_data. */
void *lunatic_main_state(lunatic_runtime *rt, void *data);
void *lunatic_user_data(const lvm_process *p);

/* Release what process p holds (ABI 2.5): cancel its children that are
 * not detached, drop its channel ends, pending list and last message. */
void lunatic_process_exited(lvm_process *p);

/* Free the runtime and the state of every process that never ended
 * (ABI D4: they are abandoned when main ends).  Call after the
 * scheduler has stopped. */
void lunatic_free(lunatic_runtime *rt);

#endif
