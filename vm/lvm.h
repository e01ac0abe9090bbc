/*
 * lvm.h - the embedding API of lvm, and the only public header.
 *
 * Data flow:  bytes --lvm_module_load--> lvm_module (immutable, shareable by
 * any number of stores and threads) --lvm_instantiate--> lvm_instance (lives
 * in an lvm_store together with its memories, tables, globals and functions)
 * --lvm_invoke--> runs on an lvm_thread (a value stack plus a frame stack).
 *
 * Ownership: a store owns everything created in it and frees it all in
 * lvm_store_free; objects of one store must never be used from another.  A
 * linker only maps (module, name) pairs to objects; it owns nothing but the
 * names.  A module is reference counted because every process of a program
 * shares one.
 *
 * Errors: every fallible call returns lvm_err (LVM_OK is 0) and, where the
 * caller passes an lvm_diag, a message naming the error, where (byte offset,
 * function index) and why.
 */
#ifndef LVM_H
#define LVM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lvm_err {
#define ERR(name, text) LVM_ERR_##name,
#include "errors.def"
#undef ERR
    LVM_ERR_COUNT
} lvm_err;
#define LVM_OK LVM_ERR_OK

/* Value types, in their binary encoding. */
enum {
    LVM_I32 = 0x7f, LVM_I64 = 0x7e, LVM_F32 = 0x7d, LVM_F64 = 0x7c,
    LVM_V128 = 0x7b, LVM_FUNCREF = 0x70, LVM_EXTERNREF = 0x6f,
};

/* External kinds, in their binary encoding (import/export descriptors). */
enum { LVM_EXTERN_FUNC = 0, LVM_EXTERN_TABLE = 1, LVM_EXTERN_MEMORY = 2, LVM_EXTERN_GLOBAL = 3 };

/* The spec text of an error ("type mismatch", "integer divide by zero"). */
const char *lvm_strerror(lvm_err err);
/* True for the errors that are run-time traps. */
bool lvm_err_is_trap(lvm_err err);

#define LVM_NO_OFFSET ((size_t)-1)

/* Where and why an operation failed.  `message` starts with
 * lvm_strerror(err) and may add detail after it. */
typedef struct lvm_diag {
    lvm_err err;
    size_t offset;          /* byte offset in the module, or LVM_NO_OFFSET */
    char message[256];
} lvm_diag;

/* One wasm value.  i32/f32 live in the low 32 bits (written and read through
 * the matching member); references are pointers (funcref: an lvm_func *,
 * NULL for null) or opaque 64-bit host values (externref: 0 for null). */
typedef union lvm_val {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
    void *ref;
    uint64_t bits;
} lvm_val;

typedef struct lvm_module lvm_module;
typedef struct lvm_store lvm_store;
typedef struct lvm_instance lvm_instance;
typedef struct lvm_func lvm_func;
typedef struct lvm_table lvm_table;
typedef struct lvm_memory lvm_memory;
typedef struct lvm_global lvm_global;
typedef struct lvm_thread lvm_thread;
typedef struct lvm_linker lvm_linker;

/* A function type: params then results, each a value type byte (LVM_I32...). */
typedef struct lvm_functype {
    uint32_t nparams, nresults;
    const uint8_t *types;       /* nparams + nresults entries */
} lvm_functype;

bool lvm_functype_equal(const lvm_functype *a, const lvm_functype *b);

/* An exported or importable object. */
typedef struct lvm_extern {
    uint8_t kind;               /* LVM_EXTERN_FUNC ... LVM_EXTERN_GLOBAL */
    union {
        lvm_func *func;
        lvm_table *table;
        lvm_memory *memory;
        lvm_global *global;
    } u;
} lvm_extern;

/* ---- modules ---------------------------------------------------------- */

/* Decode and validate a binary module.  The bytes are not kept: the module
 * copies what it needs (code, data segments, names).  On failure returns
 * NULL and fills diag (err, offset, message). */
lvm_module *lvm_module_load(const uint8_t *bytes, size_t len, lvm_diag *diag);
void lvm_module_retain(lvm_module *m);
/* The type of the exported function `name`, if the module exports one. */
bool lvm_module_export_functype(const lvm_module *m, const char *name, lvm_functype *out);
void lvm_module_release(lvm_module *m);   /* frees at the last release */
/* The exports, in the module's order: export i's name (NUL-terminated,
 * len bytes; a wasm name may hold NUL) and kind (LVM_EXTERN_*), or NULL
 * past the end.  (The test mode finds its tests so.) */
uint32_t lvm_module_export_count(const lvm_module *m);
const char *lvm_module_export_name(const lvm_module *m, uint32_t i, size_t *len, uint8_t *kind);
/* The function that runs a C, C++ or Rust program's constructors,
 * `__wasm_call_ctors` (made by wasm-ld, never exported): its index by the
 * `name` section or, in a module without function names, the function
 * that the exported `_start` calls first (wasi-libc's crt1 calls it
 * before main).  UINT32_MAX if there is none, or it is not a defined
 * () -> () function.  Found when the module is loaded, so asking costs
 * nothing. */
uint32_t lvm_module_ctors(const lvm_module *m);
/* The bytes one instance of m takes beside its linear memory: its block
 * of arrays, functions, memories, tables and globals (instance.c).  For
 * benchmarks and capacity planning. */
size_t lvm_module_instance_bytes(const lvm_module *m);

/* ---- stores and host objects ------------------------------------------ */

lvm_store *lvm_store_new(void);
void lvm_store_free(lvm_store *s);
/* Packing a store nothing runs in for a while (a parked process): each
 * of its memories gives its block back to the pool and keeps only the
 * bytes that differ from what instantiation made (the data image and
 * zeros), so a process waiting in receive holds about 1 KiB of memory
 * instead of a few pages.  lvm_store_unpack takes a block again and puts
 * the bytes back; it must be called before anything runs in s or reads
 * its memories, and returns false (s stays packed) when out of host
 * memory.  Packing is skipped for memories whose written range is over
 * LVM_PACK_MAX_SPAN bytes or that live in blocks past the pool's
 * classes.  Packing reads the whole written range, cold by then (some
 * 10 GB/s): 32 KiB is about 3 us, the cost of the one or two page faults
 * it saves the next spawn.  A C program's first malloc writes near the
 * end of its memory, so it is packed only if its memory is small; one
 * laid out for many processes (--stack-first, a small stack, no malloc
 * while it waits, as bench/lunatic's guest) writes a few KiB.  Returns
 * whether anything was packed. */
bool lvm_store_pack(lvm_store *s);
bool lvm_store_unpack(lvm_store *s);
#define LVM_PACK_MAX_SPAN ((uint64_t)32 << 10)
/* Cap every memory created in s from now on at `pages` (0 is a cap too: no
 * pages at all): instantiating a memory whose minimum exceeds it fails
 * with LVM_ERR_MEMORY_LIMIT, and memory.grow past it returns -1 (see
 * lvm_memory_refused).  lvm's per-process memory limit.  Table elements
 * count too, at 8 bytes each, beyond the first 64 KiB of them in the store
 * (store.c): a memory's size plus the store's tables, and its tables plus
 * its memories, stay within pages * 64 KiB (table.grow returns -1; an
 * initial table too big fails instantiation with LVM_ERR_MEMORY_LIMIT).  A
 * new store has no cap beyond each module's own maximum, which is a cap
 * of 65536 pages (4 GiB, all that wasm32 can address). */
void lvm_store_set_memory_limit(lvm_store *s, uint32_t pages);

/* Host functions.  args_results holds the arguments on entry and must hold
 * the results on return (it has room for max(nparams, nresults) values).
 * Return LVM_OK, or a trap code which unwinds the wasm caller, or
 * LVM_ERR_BLOCK: the call cannot finish now (the process has registered
 * itself as a waiter); the thread pauses and, when resumed, calls the host
 * function again with the same arguments.  A function that returns
 * LVM_ERR_BLOCK must leave args_results and all other state unchanged, so
 * the retry is indistinguishable from a first call. */
typedef struct lvm_hostcall {
    lvm_thread *thread;
    lvm_instance *caller;       /* instance of the calling wasm function */
    void *data;                 /* the pointer given at registration */
} lvm_hostcall;
typedef lvm_err (*lvm_host_fn)(lvm_hostcall *call, lvm_val *args_results);

/* In a host function: call wasm function f, whose type must equal the host
 * function's own, with the host call's own arguments, as a nested call
 * that catches traps.  The host function returns what this returns
 * (LVM_ERR_CALL; or a trap code if f cannot be called:
 * LVM_ERR_TRAP_INDIRECT_TYPE when f is a host function or its type
 * differs, LVM_ERR_TRAP_HOST when there is no wasm caller).  The
 * interpreter then runs f on the same thread - it may yield, block and be
 * preempted like any code - and when f returns, its results are the host
 * call's results; if f (or anything it calls) traps, the frames above the
 * call are discarded, the host call's results are all zero, and the
 * caller continues after the call (wasm state is not restored; a caught
 * trap leaves no backtrace).  Not caught: LVM_ERR_TRAP_EXIT (proc_exit),
 * LVM_ERR_TRAP_FUEL, and LVM_ERR_TRAP_KILLED - they end the whole
 * thread's run as before.  Nesting is allowed.  Only from a host function
 * called by wasm code running on t (exec_run), not from lvm_invoke of a
 * host function. */
lvm_err lvm_hostcall_catch(lvm_hostcall *call, lvm_func *f);

/* In a host function that returns LVM_OK: charge the calling thread
 * `reductions` more than the call's one, for work worth that much (a
 * spawn instantiates a module), so that a process that does a lot of it
 * yields as one that computes as much would - and spends its fuel. */
void lvm_hostcall_charge(lvm_hostcall *call, int32_t reductions);

/* Types are written as "params:results" with one letter per value:
 * i=i32 I=i64 f=f32 F=f64 r=funcref e=externref.  "iI:f" is (i32 i64)->f32. */
lvm_func *lvm_func_new_host(lvm_store *s, const char *type, lvm_host_fn fn, void *data);
lvm_memory *lvm_memory_new(lvm_store *s, uint32_t min_pages, uint32_t max_pages, bool has_max);
lvm_table *lvm_table_new(lvm_store *s, uint8_t elemtype, uint32_t min, uint32_t max, bool has_max);
lvm_global *lvm_global_new(lvm_store *s, uint8_t valtype, bool mutable_, lvm_val init);

const lvm_functype *lvm_func_type(const lvm_func *f);
lvm_val lvm_global_get(const lvm_global *g);
uint8_t lvm_global_type(const lvm_global *g);
/* A memory's bytes.  lvm recycles a memory's block by zeroing only what
 * was written, so writes by host code must be known: lvm_memory_data
 * counts the whole memory as written (use it when in doubt);
 * lvm_memory_base does not, and the caller reports each range it writes
 * (or may write) with lvm_memory_written before the guest runs again. */
uint8_t *lvm_memory_data(lvm_memory *m);
uint8_t *lvm_memory_base(lvm_memory *m);
void lvm_memory_written(lvm_memory *m, uint64_t off, uint64_t len);
uint64_t lvm_memory_size(const lvm_memory *m);   /* in bytes */
/* Grow by delta pages; returns the old size in pages or -1 (wasm semantics). */
int64_t lvm_memory_grow(lvm_memory *m, uint32_t delta);
/* The largest size in pages that a grow of m asked for and the store's
 * limit (lvm_store_set_memory_limit) refused, although the memory's own
 * maximum allowed it; 0 if none was refused so.  The guest sees only -1:
 * this is how an embedder tells its user which limit a failure was. */
uint32_t lvm_memory_refused(const lvm_memory *m);
/* The store's limit m was made under, in pages (65536: none). */
uint32_t lvm_memory_limit(const lvm_memory *m);
/* The same as lvm_memory_refused for the total of all stores
 * (lvm_set_total_memory_limit): the largest size in pages a grow asked
 * for that the total refused; 0 if none. */
uint32_t lvm_memory_refused_total(const lvm_memory *m);

/* The total of all stores: the bytes of every linear memory (what it grew
 * by, and what has been written of its initial size) and of every table's
 * elements (8 bytes each), in all the stores of the OS process together -
 * lvm's --max-total-memory.  Past it, memory.grow and table.grow return -1
 * and instantiating fails with LVM_ERR_TOTAL_MEMORY_LIMIT.  The default is the machine's physical
 * memory (mempool.c says why); 0 restores it. */
void lvm_set_total_memory_limit(uint64_t bytes);
uint64_t lvm_total_memory_limit(void);
uint64_t lvm_total_memory_used(void);

/* ---- linking ---------------------------------------------------------- */

lvm_linker *lvm_linker_new(void);
/* A linker whose lookups that find nothing of its own go on in parent
 * (which must outlive it): a few definitions that shadow a big shared
 * set, without copying it. */
lvm_linker *lvm_linker_new_child(const lvm_linker *parent);
void lvm_linker_free(lvm_linker *l);
/* Define (module, name) -> ext.  A later definition of the same pair wins. */
lvm_err lvm_linker_define(lvm_linker *l, const char *module, const char *name, lvm_extern ext);
/* Define every export of `inst` under the module name `module`. */
lvm_err lvm_linker_define_instance(lvm_linker *l, const char *module, lvm_instance *inst);
/* The same for the exports whose kind is in `kinds`, a mask of
 * 1 << LVM_EXTERN_*, under a module name given by its bytes. */
lvm_err lvm_linker_define_exports(lvm_linker *l, const char *module, size_t module_len,
                                  lvm_instance *inst, unsigned kinds);
bool lvm_linker_lookup(const lvm_linker *l, const char *module, const char *name, lvm_extern *out);

/* ---- instances -------------------------------------------------------- */

/* Instantiate `m` in `s`: resolve imports through `l` (exact type match),
 * allocate memories/tables/globals, apply element and data segments in
 * order, then run the start function on `t`.  Errors: LVM_ERR_UNKNOWN_IMPORT
 * and LVM_ERR_INCOMPATIBLE_IMPORT (unlinkable), or a trap code
 * (uninstantiable; segment writes made before the trap stay visible, as the
 * spec requires).  On error *out is NULL. */
lvm_err lvm_instantiate(lvm_store *s, lvm_linker *l, lvm_module *m, lvm_thread *t,
                        lvm_instance **out, lvm_diag *diag);
/* The same up to the start function, which it does not run: *start_out
 * gets it (NULL: the module has none), for the caller to run before
 * anything else of the instance - e.g. as a process's first code, where
 * it can yield, block and be preempted like any other (vm/process.c). */
lvm_err lvm_instantiate_deferred(lvm_store *s, lvm_linker *l, lvm_module *m, lvm_instance **out,
                                 lvm_func **start_out, lvm_diag *diag);

bool lvm_instance_export(const lvm_instance *inst, const char *name, lvm_extern *out);
/* The same for a name given by its bytes (wasm names may contain NUL). */
bool lvm_instance_export_n(const lvm_instance *inst, const char *name, size_t len, lvm_extern *out);
lvm_memory *lvm_instance_memory(const lvm_instance *inst);   /* memory 0 or NULL */
const lvm_module *lvm_instance_module(const lvm_instance *inst);

/* ---- execution -------------------------------------------------------- */

typedef struct lvm_thread_config {
    size_t max_stack_slots;     /* value stack limit, in 8-byte slots */
    uint32_t max_call_depth;    /* wasm frames; deeper is "call stack exhausted" */
    int32_t reductions;         /* budget per slice (see lvm_thread_resume) */
} lvm_thread_config;

/* NULL config = defaults (1 Mi slots, 10,000 frames... see exec/thread.c). */
lvm_thread *lvm_thread_new(const lvm_thread_config *cfg);
void lvm_thread_free(lvm_thread *t);

/* Fuel: from now on t may spend at most `reductions` more reductions (0:
 * no limit, the default); once they are spent, the next reduction traps
 * with LVM_ERR_TRAP_FUEL.  lunatic 0.14's max_fuel (vm/lvm.h users convert
 * units).  lvm_thread_fuel_left: what is left (0 when unlimited... or
 * spent: check lvm_thread_fuel_limited).  Set it between runs, not from
 * a host function running on t (the slice under way keeps its budget). */
void lvm_thread_set_fuel(lvm_thread *t, uint64_t reductions);
uint64_t lvm_thread_fuel_left(const lvm_thread *t);
bool lvm_thread_fuel_limited(const lvm_thread *t);

/* Call f with args (nparams values); write results (nresults values).
 * Runs to completion: a spent reduction budget just starts a new slice.
 * Returns LVM_OK or the trap. */
lvm_err lvm_invoke(lvm_thread *t, lvm_func *f, const lvm_val *args, lvm_val *results);

/* Write "  at NAME (func N)" lines for the frames of the last trap on `t`,
 * innermost first, into buf.  Returns the number of frames written. */
int lvm_thread_backtrace(const lvm_thread *t, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
