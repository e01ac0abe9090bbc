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
 * Design.  Block sizes are 64 KiB << k.  Each size class takes blocks from
 * a free list, else from the rest of its current region, else maps a new
 * region (the only syscall, once per REGION_BYTES of blocks).  Regions are
 * mapped MAP_NORESERVE and never touched by lvm, so a fresh block costs no
 * resident memory until the guest writes to it.  A freed block keeps its
 * pages and remembers the range its owner wrote (the memory's
 * [wlo, whi), see vm.h); the next owner zeroes only that range.  An empty
 * process writes a few KiB of its first 64 KiB page (its stack top and
 * data segments), so this is most of the cost of a spawn saved: zeroing
 * the whole page took a third of it.  Zeroing rather than madvise: 0.6 us
 * for 64 KiB against 4.6 us for the madvise plus ~1.9 us per page fault to
 * take the pages back (design notes, "memory").  Blocks larger than the
 * largest class are mapped and unmapped directly: they are rare and their
 * own cost dwarfs a syscall.
 *
 * Growing within a block is free (no copy: the block already has room);
 * growing past it moves the memory to the next class that fits.
 *
 * Not done yet: returning long-idle free blocks to the kernel (a background
 * trim), and per-worker free lists (one mutex is uncontended enough today).
 */
#include "vm.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_SHIFT 16                    /* 64 KiB */
#define NCLASSES 11                     /* up to 64 MiB */
#define REGION_BYTES ((size_t)256 << 20)

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

size_t vm_pool_block_size(size_t bytes)
{
    int k = class_of(bytes);
    if (k >= 0)
        return (size_t)1 << (MIN_SHIFT + k);
    size_t page = (size_t)LVM_PAGE_SIZE;
    return (bytes + page - 1) / page * page;
}

/* A block of at least `bytes`, all zero; *cap_out gets its size. */
uint8_t *vm_pool_alloc(size_t bytes, size_t *cap_out)
{
    int k = class_of(bytes);
    if (k < 0) {
        size_t size = vm_pool_block_size(bytes);
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
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

/* Give back a block whose bytes outside [lo, hi) are zero. */
void vm_pool_free(uint8_t *p, size_t cap, uint64_t lo, uint64_t hi)
{
    if (!p)
        return;
    int k = class_of(cap);
    if (k < 0 || ((size_t)1 << (MIN_SHIFT + k)) != cap) {
        munmap(p, cap);
        return;
    }
#ifdef LVM_CHECK_WRITTEN
    /* Test builds prove the invariant every recycle relies on: a write
     * lvm did not count would leak one process's bytes to the next. */
    for (size_t i = 0; i < cap; i++)
        if (p[i] && (i < lo || i >= hi))
            lvm_panic("memory block %p: byte %zu is written but outside the written range [%llu, %llu)",
                      (void *)p, i, (unsigned long long)lo, (unsigned long long)hi);
#endif
    size_class *c = &classes[k];
    free_block *b = (free_block *)p;
    b->lo = lo;
    b->hi = hi;
    pthread_mutex_lock(&c->lock);
    b->next = c->free;
    c->free = b;
    pthread_mutex_unlock(&c->lock);
}
