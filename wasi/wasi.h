/*
 * wasi.h - the host side of WASI preview 1 (`wasi_snapshot_preview1`), and
 * the only header of wasi/ that other folders may include.
 *
 * Where it sits: an embedder (the `lvm` command line today, the process
 * spawner later) creates one wasi_ctx per instance, registers the host
 * functions in a linker with wasi_define(), instantiates, runs `_start`, and
 * afterwards asks wasi_exit_code() whether the guest called proc_exit.  The
 * host functions only move bytes between guest memory and the host; every
 * guest pointer is bounds-checked first (an out-of-range pointer is the
 * WASI errno EFAULT, never a crash).
 *
 * What exists today is the minimal set a C (wasi-libc) or Rust std hello
 * world imports; see wasi_define below for the list.  Functions that are not
 * implemented are deliberately *not* registered, so a module that imports
 * one fails to link with a clear "unknown import" instead of failing later
 * at run time with ENOSYS; wasi_is_preview1_name() lets the caller explain
 * that such an import is part of WASI but not implemented yet.
 *
 * Threads: a wasi_ctx belongs to one instance and is used by one thread at
 * a time (the thread running that instance).
 */
#ifndef LVM_WASI_H
#define LVM_WASI_H

#include "lvm.h"

/* The import module name of every function registered here. */
#define WASI_MODULE "wasi_snapshot_preview1"

/* Per-instance WASI state: arguments, environment, standard descriptors and
 * the exit code (the full WASI adds preopens and open files here). */
typedef struct wasi_ctx wasi_ctx;

/* Create a context.  argv[0..argc) are the guest's arguments (argv[0] is
 * the program name the guest sees); envp[0..envc) are "KEY=VALUE" strings
 * (envc may be 0).  Both are copied.  Returns NULL when out of memory or
 * when the strings do not fit the guest's 32-bit sizes. */
wasi_ctx *wasi_ctx_new(int argc, const char *const argv[], int envc, const char *const envp[]);
void wasi_ctx_free(wasi_ctx *ctx);

/* Create the host functions in store `s` (they keep a pointer to ctx, so
 * ctx must outlive the store) and define each one in `l` under the module
 * name WASI_MODULE.  Implemented now: args_get, args_sizes_get,
 * environ_get, environ_sizes_get, clock_time_get, random_get, proc_exit,
 * fd_write, fd_close, fd_seek, fd_fdstat_get, fd_prestat_get,
 * fd_prestat_dir_name.  Returns LVM_OK or LVM_ERR_NO_MEMORY. */
lvm_err wasi_define(wasi_ctx *ctx, lvm_store *s, lvm_linker *l);

/* True if the guest called proc_exit; *code_out then holds its argument.
 * proc_exit makes the host function return LVM_ERR_TRAP_EXIT, which unwinds
 * the guest like a trap; the embedder tells the two apart with this call. */
bool wasi_exit_code(const wasi_ctx *ctx, uint32_t *code_out);

/* True if `name` is a function of the WASI preview 1 standard, implemented
 * or not (used to word the "unknown import" error). */
bool wasi_is_preview1_name(const char *name);

#endif
