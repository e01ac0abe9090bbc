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
 * pages and remembers how much of it was ever accessible (`dirty`); the
 * next owner zeroes only that much, and only as far as its own memory
 * reaches (lvm_pool_grow zeroes the rest as it grows into it).  That is
 * memset instead of madvise: 1.7 us for 64 KiB against 4.6 us for the
 * madvise plus ~1.9 us per page fault to take the pages back (design
 * notes, "memory").  Blocks larger than the largest class are mapped and
 * unmapped directly: they are rare and their own cost dwarfs a syscall.
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
    size_t dirty;                       /* bytes that may be non-zero */
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

/* A block of at least `bytes` whose first `bytes` are zero.  *cap_out gets
 * the block's size, *dirty_end_out the offset below which it may hold
 * non-zero bytes (at least `bytes`: the caller will dirty those). */
uint8_t *vm_pool_alloc(size_t bytes, size_t *cap_out, size_t *dirty_end_out)
{
    int k = class_of(bytes);
    if (k < 0) {
        size_t size = vm_pool_block_size(bytes);
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        *cap_out = size;
        *dirty_end_out = bytes;
        return p;
    }
    size_t size = (size_t)1 << (MIN_SHIFT + k);
    size_class *c = &classes[k];
    uint8_t *p = NULL;
    size_t dirty = 0;
    pthread_mutex_lock(&c->lock);
    if (c->free) {
        free_block *b = c->free;
        c->free = b->next;
        dirty = b->dirty;
        p = (uint8_t *)b;
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
    /* A recycled block: zero what the last owner may have written, as far
     * as this memory reaches; the rest is zeroed by vm_pool_grow_into. */
    size_t clear = dirty < bytes ? dirty : bytes;
    if (clear)
        memset(p, 0, clear);
    *cap_out = size;
    *dirty_end_out = dirty > bytes ? dirty : bytes;
    return p;
}

/* Give back a block; its first `dirty` bytes may be non-zero (the free
 * list's link adds a few). */
void vm_pool_free(uint8_t *p, size_t cap, size_t dirty)
{
    if (!p)
        return;
    int k = class_of(cap);
    if (k < 0 || ((size_t)1 << (MIN_SHIFT + k)) != cap) {
        munmap(p, cap);
        return;
    }
    size_class *c = &classes[k];
    free_block *b = (free_block *)p;
    b->dirty = dirty > sizeof *b ? dirty : sizeof *b;
    pthread_mutex_lock(&c->lock);
    b->next = c->free;
    c->free = b;
    pthread_mutex_unlock(&c->lock);
}
