/*
 * wasi.h - the host side of WASI preview 1 (`wasi_snapshot_preview1`), and
 * one of the two headers of wasi/ that other folders may include (the
 * other is lunatic.h, the lunatic host API).
 *
 * Where it sits: an embedder (the `lvm` command line today, the process
 * spawner later) creates a wasi_ctx for its first process, adds the
 * directories and sockets the program may use (wasi_ctx_preopen_dir,
 * wasi_ctx_listen_tcp), registers the host functions in a linker with
 * wasi_define(), instantiates, runs `_start`, and afterwards asks
 * wasi_exit_code() whether the guest called proc_exit.  All 46 functions of
 * preview 1 are implemented.  Every guest pointer is bounds-checked first
 * (an out-of-range pointer is the WASI errno EFAULT, never a crash).
 *
 * The sandbox: a guest sees only the directories preopened for it, and
 * every path is resolved one component at a time below one of them, in
 * user space, with symlinks followed by lvm itself (wasi/path.c).  `..`
 * above a preopen, an absolute path, or a symlink that leads out are all
 * ENOTCAPABLE.
 *
 * Processes: a context has two parts.  What a whole program shares and
 * never changes (arguments, environment, the preopen list) is
 * reference-counted; what each process owns is its descriptor table.
 * wasi_ctx_new_child gives a spawned process its own table with fresh
 * standard descriptors and preopens.  The host functions find the context
 * of the process calling them through its `wasi` slot (vm/process.h); when
 * that slot is NULL, or a host function runs outside the scheduler, they
 * use the context given to wasi_define.
 *
 * Blocking: a read from an empty pipe, an accept with nobody connecting or
 * a poll_oneoff with nothing ready suspends only the calling process (the
 * host function returns LVM_ERR_BLOCK and is re-run when the fd is ready or
 * the timer fires), never the worker thread.
 *
 * Threads: a wasi_ctx belongs to one process and is used by one thread at
 * a time; the shared part is read-only once a process runs.
 */
#ifndef LVM_WASI_H
#define LVM_WASI_H

#include "lvm.h"

/* The import module name of every function registered here. */
#define WASI_MODULE "wasi_snapshot_preview1"

/* One process's WASI state: arguments, environment and preopens (shared
 * with its children), its descriptor table, and its exit code. */
typedef struct wasi_ctx wasi_ctx;

/* Create a context.  argv[0..argc) are the guest's arguments (argv[0] is
 * the program name the guest sees); envp[0..envc) are "KEY=VALUE" strings
 * (envc may be 0).  Both are copied.  Returns NULL when out of memory or
 * when the strings do not fit the guest's 32-bit sizes. */
wasi_ctx *wasi_ctx_new(int argc, const char *const argv[], int envc, const char *const envp[]);

/* Give the program the host directory host_path under the name guest_path
 * (what wasi-libc matches paths against).  Preopens become descriptors 3,
 * 4, ... in the order they are added.  Only before the first child is
 * created.  Returns 0 or a host errno (ENOENT, ENOTDIR, ...). */
int wasi_ctx_preopen_dir(wasi_ctx *ctx, const char *host_path, const char *guest_path);

/* Listen on "ADDR:PORT" (IPv4, or [IPv6]:PORT) and give the program the
 * listening socket as the next descriptor after the preopens (sock_accept
 * takes connections from it).  Returns 0 or a host errno. */
int wasi_ctx_listen_tcp(wasi_ctx *ctx, const char *addr_port);

/* A context for a process spawned by the owner of `parent`: the same
 * arguments, environment and preopens, a fresh descriptor table (stdio and
 * the preopens, each its own host descriptor).  NULL when out of memory. */
wasi_ctx *wasi_ctx_new_child(const wasi_ctx *parent);

/* Close the context's descriptors and free it; the shared part goes with
 * the last context that uses it. */
void wasi_ctx_free(wasi_ctx *ctx);

/* Create the host functions in store `s` (they keep a pointer to ctx, so
 * ctx must outlive the store) and define each one in `l` under the module
 * name WASI_MODULE.  ctx is the context of callers that have none of their
 * own (see above).  Returns LVM_OK or LVM_ERR_NO_MEMORY. */
lvm_err wasi_define(wasi_ctx *ctx, lvm_store *s, lvm_linker *l);

/* True if the guest called proc_exit; *code_out then holds its argument.
 * proc_exit makes the host function return LVM_ERR_TRAP_EXIT, which unwinds
 * the guest like a trap; the embedder tells the two apart with this call. */
bool wasi_exit_code(const wasi_ctx *ctx, uint32_t *code_out);

/* True if `name` is a function of the WASI preview 1 standard (used to
 * word the "unknown import" error: a known name was imported with a wrong
 * module name or type). */
bool wasi_is_preview1_name(const char *name);

#endif
