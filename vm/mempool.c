/*
 * mempool.c - where linear memories live: power-of-two blocks carved from
 * large lazily-committed regions, recycled through free lists.
 *
 * Why not malloc/calloc per memory: a guest memory is 64 KiB or more, and
 * glibc serves blocks that large with mmap (a syscall on every spawn, and
 * one kernel mapping each - Linux allows 65,530, so a million processes
 * could not exist) and calloc may write every page (the whole memory
 * becomes resident).  Why not a reservation per memory with guard pages:
 * 8 GiB of address space each caps a process near 16,000 memories.
 *
 * Design.  Block sizes are 64 KiB << k up to 64 MiB (the size classes).
 * Each size class takes blocks from a free list, else from the rest of
 * its current region, else maps a new region (the only syscall, once per
 * REGION_BYTES of blocks).  Regions are mapped MAP_NORESERVE and never
 * touched by lvm, so a fresh block costs no resident memory until the
 * guest writes to it.  A freed block keeps its pages and remembers the
 * range its owner wrote (the memory's [wlo, whi), see vm.h); the next
 * owner zeroes only that range.  An empty process writes a few KiB of its
 * first 64 KiB page (its stack top and data segments), so this is most of
 * the cost of a spawn saved: zeroing the whole page took a third of it.
 * Zeroing rather than madvise: 0.6 us for 64 KiB against 4.6 us for the
 * madvise plus ~1.9 us per page fault to take the pages back (design
 * notes, "memory").
 *
 * Large blocks.  Past 64 MiB a block is its own mapping, also
 * MAP_NORESERVE, unmapped when freed: such memories are rare and their
 * own cost dwarfs a syscall.  Its capacity is the next power of two
 * (128 MiB, 256 MiB, ... 4 GiB), capped at the most the memory may ever
 * hold (its maximum or its store's limit): the unused part is only
 * address space.
 *
 * Growing.  Within a block it is free: the block is zero past what was
 * written.  Past it, the memory takes a block at least twice as big
 * (vm_pool_grow), so a memory grown page by page to n pages changes block
 * O(log n) times - 15 times from 1 to 32768 pages.  The move itself:
 *   - from a size class, a fresh block and a copy of the written range
 *     (the old block goes back to its free list, as on a free);
 *   - from a large block on Linux, mremap(MREMAP_MAYMOVE): the kernel
 *     extends the mapping in place or moves its page tables, never the
 *     bytes, and the new part is fresh zero pages;
 *   - elsewhere (the BSDs and macOS have no such mremap), a new mapping
 *     and a copy of the written range: the copies add up to less than the
 *     final size, so growth stays amortized O(1) per page.
 * Measured (bench/grow: 1 GiB of 1 KiB mallocs, ~16,500 grows of 64 KiB,
 * on a shared 2-vCPU VM; native 0.7-0.9 s): before, every grow past
 * 64 MiB mapped an exact-size block and copied the heap (96 MiB took 33 s;
 * 1 GiB, by extrapolation, about two hours); powers of two with copies,
 * 3.9-7.0 s (the copies fault in a second gigabyte of pages: 790,000 page
 * faults against 298,000, and this VM's faults are slow); powers of two
 * with mremap, 1.1-1.6 s (the faults of the guest's own pages, as
 * natively, plus the interpreter).
 * Rejected:
 *   - mremap of exact-size blocks on every grow: as fast here (the kernel
 *     extended in place all but 5 of ~15,700 times), but only while
 *     nothing is mapped after the block; with other processes' memories
 *     and stacks mapped around it, each grow may move the page tables of
 *     the whole heap, quadratic again, and the portable path needs the
 *     powers of two anyway;
 *   - a reservation of the module's declared maximum: C and Rust
 *     toolchains declare none by default (so 4 GiB each), and doing it for
 *     small memories gives up the size classes that keep a million of them
 *     cheap;
 *   - moving a class block's pages into the large block with mremap
 *     (MREMAP_FIXED, MREMAP_DONTUNMAP on Linux 5.7+) instead of the one
 *     copy of at most 64 MiB: it saves little, once per memory, and would
 *     leave a hole in a region or need a recent kernel.
 *
 * The total.  The pool also keeps the count behind --max-total-memory
 * (lvm_set_total_memory_limit): the bytes of all stores' memories and
 * table elements that a guest may have made resident.  A memory counts
 * every byte it grew by (memory.grow is refused past the limit, where the
 * guest may see -1), but of its initial size only what has been written:
 * the part its written range covers (store.c, charge_written), counted as
 * the range widens and never refused, since a store cannot fail and the
 * module declared that size.  A new memory needs room for one page, so a
 * spawn is refused once the total is spent.  Why not the size, as for
 * growth: pages never touched cost nothing (the regions are
 * MAP_NORESERVE), and counting them would refuse a million one-page
 * processes on a 24 GiB machine (64 GiB of sizes; each touches a few KiB)
 * and let a Rust program (17 initial pages) spawn only ~22,000 children.
 * Why not the resident pages: the kernel knows them and lvm does not
 * cheaply; the written range bounds them from above.  The default is the
 * machine's physical memory: past it, memories that are actually used
 * would push the host into swap or the OOM killer, which kills lvm and
 * every process in it rather than failing the one grow that asked too
 * much.  Rejected: a fraction of it, such as 3/4, since a grown size is an
 * upper bound of what is resident (a C heap reserves more than it
 * touches), so a fraction would refuse honest programs on small machines;
 * and counting capacity, which doubles on growth (vm_pool_grow), so a
 * 2.1 GiB memory would count as 4 GiB.  One atomic counter, updated at
 * creation, growth, a widening of the written range and free only:
 * nothing on the interpreter's fast path.
 *
 * Not done yet: returning long-idle free blocks to the kernel (a background
 * trim), and per-worker free lists (one mutex is uncontended enough today).
 */
#if defined(__linux__)
#define _GNU_SOURCE             /* mremap and MREMAP_MAYMOVE in glibc */
#if !defined(LVM_NO_MREMAP)     /* -DLVM_NO_MREMAP: the portable path */
#define HAVE_MREMAP 1
#endif
#endif
#include "vm.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIN_SHIFT 16                    /* 64 KiB */
#define NCLASSES 11                     /* up to 64 MiB */
#define CLASS_MAX ((size_t)1 << (MIN_SHIFT + NCLASSES - 1))
_Static_assert(CLASS_MAX == VM_POOL_CLASS_MAX, "vm.h's VM_POOL_CLASS_MAX");
#define REGION_BYTES ((size_t)256 << 20)

#ifdef HAVE_MREMAP
bool vm_pool_remap = true;
#else
bool vm_pool_remap = false;
#endif
uint64_t vm_pool_moves, vm_pool_copied;

/* {====== the total of all stores */

static uint64_t total_used;
static uint64_t total_limit;            /* 0: not set, the default */

static uint64_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return UINT64_MAX;              /* unknown: no total */
    return (uint64_t)pages * (uint64_t)size;
}

void lvm_set_total_memory_limit(uint64_t bytes)
{
    __atomic_store_n(&total_limit, bytes, __ATOMIC_RELAXED);
}

uint64_t lvm_total_memory_limit(void)
{
    uint64_t limit = __atomic_load_n(&total_limit, __ATOMIC_RELAXED);
    if (!limit) {
        limit = physical_memory();
        /* Racing first callers compute the same value. */
        uint64_t unset = 0;
        __atomic_compare_exchange_n(&total_limit, &unset, limit, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    }
    return limit;
}

uint64_t lvm_total_memory_used(void)
{
    return __atomic_load_n(&total_used, __ATOMIC_RELAXED);
}

bool vm_pool_charge(uint64_t bytes)
{
    if (!bytes)
        return true;
    uint64_t limit = lvm_total_memory_limit();
    uint64_t used = __atomic_load_n(&total_used, __ATOMIC_RELAXED);
    do {
        if (bytes > limit || used > limit - bytes)
            return false;
    } while (!__atomic_compare_exchange_n(&total_used, &used, used + bytes, true,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

void vm_pool_charge_anyway(uint64_t bytes)
{
    __atomic_add_fetch(&total_used, bytes, __ATOMIC_RELAXED);
}

bool vm_pool_fits(uint64_t bytes)
{
    uint64_t limit = lvm_total_memory_limit();
    uint64_t used = __atomic_load_n(&total_used, __ATOMIC_RELAXED);
    return bytes <= limit && used <= limit - bytes;
}

void vm_pool_uncharge(uint64_t bytes)
{
    __atomic_sub_fetch(&total_used, bytes, __ATOMIC_RELAXED);
}

/* }====== */

typedef struct free_block {
    struct free_block *next;
    uint64_t lo, hi;                    /* what the last owner wrote */
} free_block;

typedef struct size_class {
    pthread_mutex_t lock;
    free_block *free;
    uint8_t *bump, *bump_end;           /* unused rest of the current region */
} size_class;

static size_class classes[NCLASSES] = {
#define C { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL }
    C, C, C, C, C, C, C, C, C, C, C,
#undef C
};

static int class_of(size_t bytes)
{
    for (int k = 0; k < NCLASSES; k++)
        if (bytes <= ((size_t)1 << (MIN_SHIFT + k)))
            return k;
    return -1;
}

/* The capacity of a large block (past the classes) for `bytes`: the next
 * power of two, but never more than `most` (what the memory may ever
 * reach), and never less than bytes rounded up to whole pages. */
static size_t large_size(size_t bytes, size_t most)
{
    size_t page = (size_t)LVM_PAGE_SIZE;
    size_t exact = (bytes + page - 1) / page * page;
    size_t size = CLASS_MAX;
    while (size < exact && size <= SIZE_MAX / 2)
        size *= 2;
    if (size > most)
        size = most;
    return size < exact ? exact : size;
}

static uint8_t *map_large(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

uint8_t *vm_pool_alloc(size_t bytes, size_t most, size_t *cap_out)
{
    int k = class_of(bytes);
    if (k < 0) {
        size_t size = large_size(bytes, most);
        uint8_t *p = map_large(size);
        if (p)
            *cap_out = size;
        return p;
    }
    size_t size = (size_t)1 << (MIN_SHIFT + k);
    size_class *c = &classes[k];
    uint8_t *p = NULL;
    bool recycled = false;
    uint64_t lo = 0, hi = 0;
    pthread_mutex_lock(&c->lock);
    if (c->free) {
        free_block *b = c->free;
        c->free = b->next;
        lo = b->lo;
        hi = b->hi;
        p = (uint8_t *)b;
        recycled = true;
    } else {
        if (c->bump == c->bump_end) {
            size_t region = REGION_BYTES > size ? REGION_BYTES : size;
            void *r = mmap(NULL, region, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (r != MAP_FAILED) {
                c->bump = r;
                c->bump_end = c->bump + region;
            }
        }
        if (c->bump != c->bump_end) {
            p = c->bump;
            c->bump += size;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (!p)
        return NULL;
    /* A recycled block: zero the free list's link and what the last owner
     * wrote.  A fresh one is zero and untouched: keep it so (an idle
     * process's memory is then only the pages it wrote). */
    if (recycled) {
        memset(p, 0, sizeof(free_block));
        if (hi > lo)
            memset(p + lo, 0, (size_t)(hi - lo));
    }
    *cap_out = size;
    return p;
}

uint8_t *vm_pool_grow(uint8_t *p, size_t cap, size_t bytes, size_t most,
                      uint64_t lo, uint64_t hi, size_t *cap_out)
{
    if (!p)
        return vm_pool_alloc(bytes, most, cap_out);
#ifdef HAVE_MREMAP
    /* A large block on Linux: the kernel extends the mapping where it is
     * or moves its page tables elsewhere - never its bytes.  The new part
     * is fresh anonymous memory, zero, so the written range stays right. */
    if (cap > CLASS_MAX && vm_pool_remap) {
        size_t size = large_size(bytes, most);
        void *d = mremap(p, cap, size, MREMAP_MAYMOVE);
        if (d == MAP_FAILED)
            return NULL;
        __atomic_add_fetch(&vm_pool_moves, 1, __ATOMIC_RELAXED);
        *cap_out = size;
        return d;
    }
#endif
    /* Else a new block, zero, and a copy of what was written (nothing
     * else can be non-zero).  Capacities at least double each time, so
     * over a memory's life the copies add up to less than its final
     * size. */
    size_t size;
    uint8_t *d = vm_pool_alloc(bytes, most, &size);
    if (!d)
        return NULL;
    if (hi > lo) {
        memcpy(d + lo, p + lo, (size_t)(hi - lo));
        __atomic_add_fetch(&vm_pool_copied, hi - lo, __ATOMIC_RELAXED);
    }
    vm_pool_free(p, cap, lo, hi);
    __atomic_add_fetch(&vm_pool_moves, 1, __ATOMIC_RELAXED);
    *cap_out = size;
    return d;
}

#ifdef LVM_CHECK_WRITTEN
/* Test builds prove the invariant every recycle relies on: a write lvm
 * did not count would leak one process's bytes to the next.  A large
 * block may be gigabytes of untouched address space: only its resident
 * pages are read (mincore), the others are zero by definition. */
static void check_written(const uint8_t *p, size_t cap, uint64_t lo, uint64_t hi)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), npages = (cap + page - 1) / page;
    unsigned char *resident = NULL;
#if defined(__linux__)
    if (cap > CLASS_MAX && (resident = malloc(npages)) &&
        mincore((void *)p, cap, resident) != 0) {
        free(resident);
        resident = NULL;
    }
#endif
    for (size_t pg = 0; pg < npages; pg++) {
        if (resident && !(resident[pg] & 1))
            continue;
        size_t end = (pg + 1) * page < cap ? (pg + 1) * page : cap;
        for (size_t i = pg * page; i < end; i++)
            if (p[i] && (i < lo || i >= hi))
                lvm_panic("memory block %p: byte %zu is written but outside the written range [%llu, %llu)",
                          (const void *)p, i, (unsigned long long)lo, (unsigned long long)hi);
    }
    free(resident);
}
#endif

void vm_pool_free(uint8_t *p, size_t cap, uint64_t lo, uint64_t hi)
{
    if (!p)
        return;
#ifdef LVM_CHECK_WRITTEN
    check_written(p, cap, lo, hi);
#endif
    if (cap > CLASS_MAX) {
        munmap(p, cap);
        return;
    }
    size_class *c = &classes[class_of(cap)];
    free_block *b = (free_block *)p;
    b->lo = lo;
    b->hi = hi;
    pthread_mutex_lock(&c->lock);
    b->next = c->free;
    c->free = b;
    pthread_mutex_unlock(&c->lock);
}
