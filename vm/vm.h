/*
 * vm.h - the run-time objects behind the handles of lvm.h: stores,
 * instances, functions, memories, tables and globals.  exec/ reads these
 * structures directly in its dispatch loop, so their layout is part of the
 * interpreter's contract; everyone else goes through lvm.h.
 *
 * Design notes
 *  - Linear memory is one block from mempool.c of at least `size` bytes
 *    (`cap`), grown in place while it has room and replaced by one at
 *    least twice as big (or as big as it may get) when not, so growth is
 *    amortized O(1) per page; no guard-page reservation per instance.  The interpreter checks
 *    every access explicitly (one compare against `size`), which is what lets
 *    a million instances share one address space (a 8 GiB reservation per
 *    memory caps a process near 16,000 of them).  The interpreter caches
 *    `data` and `size` in locals and reloads them after anything that can
 *    grow the memory (memory.grow, calls).
 *  - Tables hold lvm_val: funcref entries are lvm_func pointers (NULL is
 *    ref.null), externref entries opaque 64-bit host values (0 is null).
 *  - Every object records nothing about which instance imported it: an
 *    object can be shared by any number of instances of one store.
 */
#ifndef LVM_VM_H
#define LVM_VM_H

#include "base.h"
#include "../decoder/decoder.h"

struct exec_code;

/* Everything a store owns is on one list and freed together, newest
 * first.  The node lives in the object it tracks (vm_store_link), so
 * tracking costs no allocation; `heap` marks the nodes vm_store_track
 * allocated for objects that have none. */
typedef struct vm_object {
    struct vm_object *next;
    void (*free)(void *obj);
    void *obj;
    bool heap;
} vm_object;

struct lvm_func {
    const lvm_functype *type;
    lvm_instance *inst;         /* owning instance; NULL for host functions */
    uint32_t index;             /* function index in inst->module */
    struct exec_code *code;     /* lowered code (cached from module->code) */
    /* Every instance has one lvm_func per function it defines, made on
     * every spawn, and they are the bigger part of its block (instance.c):
     * so 32 bytes, and what only host functions need lives beside them
     * in vm_host_func (a NULL inst says which kind it is). */
};

/* A host function: its lvm_func, then what calls it (store.c makes them). */
typedef struct vm_host_func {
    lvm_func f;                 /* first: a host lvm_func * is one of these */
    lvm_host_fn host;
    void *host_data;
    lvm_functype type;
    uint8_t types[16];
} vm_host_func;

static inline bool vm_func_is_host(const lvm_func *f)
{
    return f->inst == NULL;
}

static inline const vm_host_func *vm_host_of(const lvm_func *f)
{
    return (const vm_host_func *)f;
}

struct lvm_memory {
    uint8_t *data;              /* a block from mempool.c (NULL: 0 pages) */
    lvm_store *store;           /* whose tables share its limit */
    uint64_t size;              /* bytes; always pages * 64 KiB */
    uint32_t pages, max_pages;  /* max_pages is LVM_MAX_PAGES when unbounded */
    uint32_t limit_pages;       /* the store's per-process limit */
    /* The largest size in pages that memory.grow asked for and the
     * store's limit refused (within max_pages): 0 if none.  The guest only
     * sees -1; this tells the embedder why (lvm_memory_refused). */
    uint32_t refused_pages;
    /* The same for the total of all stores (lvm_memory_refused_total). */
    uint32_t refused_total_pages;
    size_t cap;                 /* the block's size */
    /* What has been written since the memory took its block: every byte
     * of the block outside [wlo, wlo + wspan + 8) is zero, so recycling
     * the block zeroes only that range (mempool.c).  The range is kept in
     * the form the interpreter's store check wants, `ea - wlo > wspan`:
     * one subtract and one compare, as cheap as the bounds check it
     * replaces, and it fails for any store that is not wholly inside
     * (stores are at most 8 bytes).  VM_UNWRITTEN, with wspan 0, is the
     * empty range: every address fails the check.  Only
     * lvm_memory_written changes it, and it never reaches past `size`: a
     * store inside the range is therefore inside the memory, which is
     * what lets the check stand in for the bounds check. */
    uint64_t wlo, wspan;
    /* What this memory counts in the total of all stores (mempool.c, "the
     * total"): every byte it grew by, and of its initial size only what
     * has been written (the part of [0, initial) the written range
     * covers), since untouched initial pages cost nothing. */
    uint64_t initial, charged;
    vm_object link;             /* on its store's list */
    bool in_block;              /* part of an instance's block: not freed
                                   by itself (instance.c, alloc_block) */
    /* What instantiation wrote, for packing (lvm_store_pack): the
     * module's data image at image_at (NULL: none). */
    const uint8_t *image;
    uint64_t image_at, image_len;
    /* Packed: data is NULL and these hold the bytes that differ from the
     * image and zeros, as runs (store.c, memory_pack). */
    uint8_t *packed;
    size_t packed_len;
};

#define VM_UNWRITTEN ((uint64_t)1 << 63)

/* Blocks up to this size come from the pool's size classes (mempool.c). */
#define VM_POOL_CLASS_MAX ((size_t)64 << 20)

/* lvm_memory_written (lvm.h) widens the range in steps of at least
 * VM_WRITE_GRAIN and a quarter of its span, so that a guest walking upward
 * or downward through memory takes the slow path a few dozen times, not
 * once per store. */
#define VM_WRITE_GRAIN 1024

/* Linear-memory blocks (mempool.c).  `most` is the largest size the
 * memory may ever reach (its maximum or its store's limit, in bytes): a
 * block past the size classes is never made bigger than that. */
/* A block of at least `bytes`, all zero; *cap_out gets its size. */
uint8_t *vm_pool_alloc(size_t bytes, size_t most, size_t *cap_out);
/* Room for `bytes` (more than cap) in place of block p, whose bytes
 * outside [written_lo, written_hi) are zero: the block grown or moved,
 * contents kept and the rest zero, or NULL (out of host memory) with p
 * unchanged.  p may be NULL (a memory of 0 pages). */
uint8_t *vm_pool_grow(uint8_t *p, size_t cap, size_t bytes, size_t most,
                      uint64_t written_lo, uint64_t written_hi, size_t *cap_out);
/* Give back a block whose bytes outside [written_lo, written_hi) are zero. */
void vm_pool_free(uint8_t *p, size_t cap, uint64_t written_lo, uint64_t written_hi);
/* The total of all stores (lvm_set_total_memory_limit): count `bytes`
 * more of memory or table elements, or return false and count nothing
 * if that would pass the limit; and count them no more. */
bool vm_pool_charge(uint64_t bytes);
void vm_pool_uncharge(uint64_t bytes);
/* Count `bytes` even past the limit (what a store touched), and whether
 * `bytes` more would fit now, counting nothing. */
void vm_pool_charge_anyway(uint64_t bytes);
bool vm_pool_fits(uint64_t bytes);
/* For tests: whether vm_pool_grow may use mremap (true where the system
 * has it; false runs the portable path), and how many times a block was
 * replaced by a bigger one and how many bytes that copied (read them with
 * __atomic_load_n). */
extern bool vm_pool_remap;
extern uint64_t vm_pool_moves, vm_pool_copied;

struct lvm_table {
    lvm_val *elems;
    uint32_t size, max;         /* max is UINT32_MAX when unbounded */
    uint8_t type;               /* LVM_FUNCREF or LVM_EXTERNREF */
    bool in_block;              /* as lvm_memory's */
    bool elems_borrowed;        /* elems lives in the instance's block
                                   until the first grow mallocs them */
    uint32_t limit_pages;       /* the store's limit it was made under */
    lvm_store *store;
    vm_object link;
};

struct lvm_global {
    lvm_val val;
    uint8_t type;
    bool mutable_;
};

struct lvm_instance {
    lvm_module *module;
    lvm_store *store;
    lvm_func **funcs;           /* module->nfuncs entries, imports first */
    lvm_table **tables;
    lvm_memory **memories;
    lvm_global **globals;
    lvm_memory *mem0;           /* memories[0], or a shared empty memory */
    lvm_func *own_funcs;        /* storage for the defined functions */
    bool *elem_dropped;         /* per element segment */
    bool *data_dropped;         /* per data segment */
    lvm_val *block_elems;       /* the block's table entries not yet used */
    bool funcs_made;            /* own_funcs are written: the block may be
                                   reused as it is (instance.c) */
    vm_object link;
    /* The instance itself is the start of one block that also holds its
     * arrays and its own functions, memories, tables and globals
     * (instance.c, alloc_block): one malloc per instance. */
};


struct lvm_store {
    vm_object *objects;
    uint32_t memory_limit_pages;    /* see lvm_store_set_memory_limit */
    /* What the limit counts (store.c): the bytes of its memories and of
     * its tables' elements. */
    uint64_t memory_bytes, table_bytes;
};

/* Table elements up to this many bytes per store are not counted against
 * its memory limit (they are against the total): see store.c. */
#define VM_TABLE_FREE_BYTES ((uint64_t)64 << 10)

/* Whether s's tables may grow by `bytes` under `limit_pages` (a table's
 * or the store's limit), with its memories. */
bool vm_tables_fit(const lvm_store *s, uint32_t limit_pages, uint64_t bytes);
/* Whether a memory of s may have `bytes` with s's tables under
 * limit_pages. */
bool vm_memory_fits(const lvm_store *s, uint32_t limit_pages, uint64_t bytes);

/* A store in storage the caller owns (lvm_process embeds its own):
 * lvm_store_new and lvm_store_free without the allocation. */
void vm_store_init(lvm_store *s);
void vm_store_fini(lvm_store *s);

/* Free the instance blocks m keeps for reuse (instance.c). */
void vm_module_free_spares(lvm_module *m);

/* Register obj with the store so lvm_store_free frees it with fn: with a
 * node of obj's own (no allocation, cannot fail), or one allocated. */
void vm_store_link(lvm_store *s, vm_object *node, void *obj, void (*fn)(void *));
bool vm_store_track(lvm_store *s, void *obj, void (*fn)(void *));

/* In storage the caller provides (an instance's block): a memory or a
 * table as lvm_memory_new and lvm_table_new make them, linked to s; false
 * (nothing held) where those return NULL.  A table of min entries uses
 * `elems` (min zeroed entries) until it grows. */
bool vm_memory_init(lvm_store *s, lvm_memory *m, uint32_t min_pages, uint32_t max_pages,
                    bool has_max);
bool vm_table_init(lvm_store *s, lvm_table *t, lvm_val *elems, uint8_t elemtype, uint32_t min,
                   uint32_t max, bool has_max);

/* The function's type as seen by call_indirect: pointer equality first, then
 * structure (types from different modules compare by structure). */
static inline bool vm_functype_match(const lvm_functype *a, const lvm_functype *b)
{
    return a == b || lvm_functype_equal(a, b);
}

/* Grow a table by delta entries filled with init; returns the old size or
 * -1 (table.grow semantics). */
int64_t vm_table_grow(lvm_table *t, uint32_t delta, lvm_val init);

/* The empty memory that instances without one point mem0 at, so the
 * interpreter never tests for NULL: every access is out of bounds. */
extern lvm_memory vm_no_memory;

#endif
